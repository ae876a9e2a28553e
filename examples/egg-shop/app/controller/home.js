'use strict';

const { Controller } = require('egg');

class HomeController extends Controller {
  async index() {
    await this.ctx.render('index.html', { user: this.ctx.session.user });
  }

  async go() {
    // open redirect: any URL is allowed while security.domainWhiteList is empty
    this.ctx.redirect(this.ctx.query.url);
  }
}

module.exports = HomeController;
