// The status page's files (daemon/http/static/), compiled in by daemon/http/
// embed_assets.cmake so petaboxd serves them without files beside it or any CDN.
#pragma once

namespace petabox::daemon {

struct EmbeddedAsset {
  const char* path;          // "/" for index.html, else "/static/NAME"
  const char* content_type;  // "text/javascript; charset=utf-8", ...
  const char* body;
};

extern const EmbeddedAsset kStatusPageAssets[];
extern const int kStatusPageAssetCount;

}  // namespace petabox::daemon
