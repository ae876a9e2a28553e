'use strict';

module.exports = () => {
  const config = {};
  config.logger = { level: 'DEBUG', allowDebugAtProd: true };
  config.cors = { origin: '*', credentials: true };
  return config;
};
