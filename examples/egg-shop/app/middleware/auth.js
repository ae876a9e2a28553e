'use strict';

module.exports = () => {
  return async function auth(ctx, next) {
    if (!ctx.session.user && ctx.method !== 'GET') {
      ctx.status = 401;
      return;
    }
    await next();
  };
};
