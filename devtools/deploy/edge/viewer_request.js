// CloudFront Function (cloudfront-js-2.0), viewer request, on the cached page behaviors.
// Puts the visitor's variant bucket in the X-Gs-Bucket header, which is in the cache key: one
// cached copy of a page per bucket, never one visitor's copy for another. The bucket is the
// origin's own (chalicelib/pages/experiments.py bucket_of): SHA-256 of the gs_vid cookie, first
// 32 bits, modulo BUCKETS. A new visitor gets an id derived from this request's id; the
// viewer-response function derives the same one and sets it as their cookie.
var crypto = require('crypto');
var BUCKETS = __BUCKETS__;
var VISITOR_ID = /^[A-Za-z0-9_-]{16,64}$/;

function visitorId(event) {
  var cookie = event.request.cookies.gs_vid;
  if (cookie && VISITOR_ID.test(cookie.value)) {
    return cookie.value;
  }
  return crypto.createHash('sha256').update('gs_vid|' + event.context.requestId).digest('hex').substring(0, 32);
}

function handler(event) {
  var request = event.request;
  var digest = crypto.createHash('sha256').update(visitorId(event)).digest('hex');
  // Set, never appended: a bucket sent by the viewer is replaced.
  request.headers['x-gs-bucket'] = { value: String(parseInt(digest.substring(0, 8), 16) % BUCKETS) };
  return request;
}
