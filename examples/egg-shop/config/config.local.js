'use strict';

exports.security = {
  hsts: { enable: false },
};
exports.logger = { level: 'DEBUG' };
