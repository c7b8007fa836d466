#include "core/management/dashboard.h"

#include <algorithm>

namespace scaleout::core::management {
namespace {

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

sdk::Response TextResponse(int status, std::string_view text) {
  sdk::Response response;
  response.status = status;
  response.content_type = "text/plain; charset=utf-8";
  response.body.assign(text.begin(), text.end());
  return response;
}

}  // namespace

std::string_view ContentTypeFor(std::string_view name) {
  if (EndsWith(name, ".html")) return "text/html; charset=utf-8";
  if (EndsWith(name, ".mjs") || EndsWith(name, ".js")) return "text/javascript; charset=utf-8";
  if (EndsWith(name, ".css")) return "text/css; charset=utf-8";
  if (EndsWith(name, ".svg")) return "image/svg+xml";
  if (EndsWith(name, ".json")) return "application/json";
  return "application/octet-stream";
}

DashboardSite::DashboardSite(std::span<const StaticAsset> assets)
    : assets_(assets.begin(), assets.end()) {}

const StaticAsset* DashboardSite::Find(std::string_view path) const {
  if (path.empty() || path.front() != '/') return nullptr;
  std::string_view name = path.substr(1);
  if (name.empty()) name = "index.html";
  auto found = std::find_if(assets_.begin(), assets_.end(),
                            [name](const StaticAsset& asset) { return asset.name == name; });
  return found == assets_.end() ? nullptr : &*found;
}

std::optional<sdk::Response> DashboardSite::Serve(const sdk::Request& request) const {
  std::string_view path = request.target;
  if (auto query = path.find('?'); query != std::string_view::npos) path = path.substr(0, query);
  const StaticAsset* asset = Find(path);
  if (asset == nullptr) return std::nullopt;
  if (request.method != "GET") {
    return TextResponse(
        405, "the dashboard's files are read with GET, not " + std::string(request.method) + "\n");
  }
  sdk::Response response;
  response.content_type = std::string(ContentTypeFor(asset->name));
  response.body.assign(asset->bytes.begin(), asset->bytes.end());
  return response;
}

}  // namespace scaleout::core::management
