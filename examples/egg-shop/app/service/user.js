'use strict';

const crypto = require('crypto');
const { Service } = require('egg');

class UserService extends Service {
  async check(username, password) {
    const hash = crypto.createHash('md5').update(password).digest('hex');
    return this.app.mysql.get('users', { username, password_md5: hash });
  }
}

module.exports = UserService;
