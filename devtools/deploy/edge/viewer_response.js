// CloudFront Function (cloudfront-js-2.0), viewer response, on the cached page behaviors.
// A visitor without a valid gs_vid cookie gets the id their request's bucket was chosen by
// (derived from the request id, as the viewer-request function did). A page cached at the edge
// is the same for every visitor of its bucket, so no shared cache after us may keep it: what
// the origin called public is private on its way to the browser.
var crypto = require('crypto');
var VISITOR_ID = /^[A-Za-z0-9_-]{16,64}$/;
var COOKIE_ATTRIBUTES = 'Path=/; Max-Age=31536000; Secure; HttpOnly; SameSite=Lax';

function handler(event) {
  var response = event.response;
  var cookie = event.request.cookies.gs_vid;
  if (!(cookie && VISITOR_ID.test(cookie.value))) {
    var id = crypto.createHash('sha256').update('gs_vid|' + event.context.requestId).digest('hex').substring(0, 32);
    response.cookies.gs_vid = { value: id, attributes: COOKIE_ATTRIBUTES };
  }
  var control = response.headers['cache-control'];
  if (control && control.value.indexOf('public') === 0) {
    response.headers['cache-control'] = { value: 'private' + control.value.substring('public'.length) };
  }
  return response;
}
