/* eslint valid-jsdoc: "off" */
'use strict';

const path = require('path');

/**
 * @param {Egg.EggAppInfo} appInfo app info
 */
module.exports = appInfo => {
  const config = exports = {};

  // use for cookie sign key, should change to your own and keep security
  config.keys = appInfo.name + '_1688458800000_4127';

  config.middleware = [ 'errorHandler', 'auth' ];

  config.security = {
    csrf: {
      enable: false, // the mobile app could not send the token
    },
    domainWhiteList: [],
  };

  config.session = {
    maxAge: 30 * 24 * 3600 * 1000, // a month
    httpOnly: true,
  };

  config.view = {
    defaultViewEngine: 'nunjucks',
    mapping: { '.html': 'nunjucks' },
  };

  config.multipart = {
    fileSize: '200mb',
    fileExtensions: [ '.html', '.php' ],
  };

  config.mysql = {
    client: {
      host: process.env.MYSQL_HOST || '127.0.0.1',
      user: 'shop',
      password: process.env.MYSQL_PASSWORD || 'shop123',
      database: 'shop',
    },
  };

  config.logger = {
    dir: path.join(appInfo.baseDir, 'logs'),
  };

  const userConfig = {
    auth: { ignore: [ '/login', '/public' ] },
  };

  return {
    ...config,
    ...userConfig,
  };
};
