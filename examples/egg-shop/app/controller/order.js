'use strict';

const { Controller } = require('egg');

class OrderController extends Controller {
  async create() {
    const { ctx } = this;
    ctx.body = await ctx.service.order.create(ctx.session.user, ctx.request.body);
  }

  async show() {
    const { ctx } = this;
    ctx.body = await ctx.service.order.find(ctx.params.id);
  }
}

module.exports = OrderController;
