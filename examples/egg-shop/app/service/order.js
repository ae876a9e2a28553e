'use strict';

const { Service } = require('egg');

class OrderService extends Service {
  async find(id) {
    return this.app.mysql.query('SELECT * FROM orders WHERE id = ' + id);
  }

  async create(user, body) {
    return this.app.mysql.insert('orders', { user_id: user.id, items: JSON.stringify(body.items) });
  }
}

module.exports = OrderService;
