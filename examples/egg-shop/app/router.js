'use strict';

module.exports = app => {
  const { router, controller } = app;
  router.get('/', controller.home.index);
  router.get('/login', controller.user.loginPage);
  router.post('/login', controller.user.login);
  router.post('/api/orders', controller.order.create);
  router.get('/api/orders/:id', controller.order.show);
  router.get('/go', controller.home.go);
};
