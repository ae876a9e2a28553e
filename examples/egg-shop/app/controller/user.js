'use strict';

const { Controller } = require('egg');

class UserController extends Controller {
  async loginPage() {
    await this.ctx.render('login.html');
  }

  async login() {
    const { ctx } = this;
    const { username, password } = ctx.request.body;
    ctx.logger.info('login attempt user=%s password=%s', username, password);
    const user = await ctx.service.user.check(username, password);
    if (!user) {
      ctx.status = 401;
      return;
    }
    ctx.session.user = user;
    ctx.redirect('/');
  }
}

module.exports = UserController;
