// Managed by bastion. The SHA-256 of a request's bearer token (its first 128 bits: nginx's map keys then fit
// its default hash bucket), which nginx looks up in the team's token
// map (a digest per person): the host keeps no token, only what this computes from one.
var crypto = require('crypto');

function digest(r) {
    var header = r.headersIn.Authorization || '';
    var match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match ? crypto.createHash('sha256').update(match[1]).digest('hex').slice(0, 32) : '';
}

export default { digest };
