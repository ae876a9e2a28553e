'use strict';

module.exports = () => {
  return async function errorHandler(ctx, next) {
    try {
      await next();
    } catch (err) {
      ctx.app.emit('error', err, ctx);
      ctx.status = err.status || 500;
      ctx.body = { error: err.message, stack: err.stack };
    }
  };
};
