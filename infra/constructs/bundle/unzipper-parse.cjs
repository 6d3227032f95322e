// unzipper's index, as far as exceljs's stream workbook reader uses it (aliases.ts). Its
// polyfills for Node 0.8 (setImmediate, Buffer#indexOf, listenerCount) are left out: Node
// has them. A path, not `unzipper/lib/parse.js`: the alias would send that here too.
exports.Parse = require('../../../node_modules/unzipper/lib/parse.js');
