// PriceTable: loads LiteLLM's model_prices_and_context_window.json and Portkey pricing files
// (one file or a directory of them) into USD-per-token prices. Portkey prices are in US cents.
#include "tollgate/prices.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

namespace tollgate {

namespace {

using nlohmann::json;

std::optional<double> number_field(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

bool read_file(const std::string& path, std::string* out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot open price table " + path;
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

// LiteLLM: {model: {input_cost_per_token, output_cost_per_token, cache_read_input_token_cost,
// input_cost_per_token_batches, ...}}, USD per token; "sample_spec" documents the fields.
size_t load_litellm(const json& doc, PriceTable* table) {
  size_t n = 0;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (it.key() == "sample_spec" || !it->is_object()) continue;
    auto in = number_field(*it, "input_cost_per_token");
    auto out = number_field(*it, "output_cost_per_token");
    if (!in && !out) continue;  // priced per image/second/query only: not usable per token
    ModelPrice p;
    p.in_per_token = in.value_or(0);
    p.out_per_token = out.value_or(0);
    p.cache_read_per_token = number_field(*it, "cache_read_input_token_cost");
    p.cache_write_per_token = number_field(*it, "cache_creation_input_token_cost");
    p.batch_in_per_token = number_field(*it, "input_cost_per_token_batches");
    p.batch_out_per_token = number_field(*it, "output_cost_per_token_batches");
    p.source = "litellm";
    table->add(it.key(), std::move(p));
    ++n;
  }
  return n;
}

std::optional<double> portkey_price(const json& cfg, const char* key) {
  auto it = cfg.find(key);
  if (it == cfg.end() || !it->is_object()) return std::nullopt;
  auto v = number_field(*it, "price");
  if (!v) return std::nullopt;
  return *v / 100.0;  // cents -> USD
}

bool is_portkey(const json& doc) {
  for (auto it = doc.begin(); it != doc.end(); ++it)
    if (it->is_object() && it->contains("pricing_config")) return true;
  return false;
}

// Providers whose Portkey file names the model's first-party price; a bare model id resolves to
// these before resellers (azure-openai, bedrock, ...) that carry the same model name.
bool first_party(const std::string& provider) {
  static const char* kFirst[] = {"openai", "anthropic", "google", "vertex-ai", "mistral-ai",
                                 "cohere", "deepseek",  "x-ai",   "groq"};
  for (const char* p : kFirst)
    if (provider == p) return true;
  return false;
}

size_t load_portkey(const json& doc, const std::string& provider, PriceTable* table) {
  size_t n = 0;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (it.key() == "default" || !it->is_object()) continue;
    auto pc = it->find("pricing_config");
    if (pc == it->end() || !pc->is_object()) continue;
    auto payg = pc->find("pay_as_you_go");
    if (payg == pc->end() || !payg->is_object()) continue;
    auto in = portkey_price(*payg, "request_token");
    auto out = portkey_price(*payg, "response_token");
    if (!in && !out) continue;
    ModelPrice p;
    p.in_per_token = in.value_or(0);
    p.out_per_token = out.value_or(0);
    p.cache_read_per_token = portkey_price(*payg, "cache_read_input_token");
    p.cache_write_per_token = portkey_price(*payg, "cache_write_input_token");
    auto batch = pc->find("batch_config");
    if (batch != pc->end() && batch->is_object()) {
      p.batch_in_per_token = portkey_price(*batch, "request_token");
      p.batch_out_per_token = portkey_price(*batch, "response_token");
    }
    p.source = provider.empty() ? "portkey" : "portkey:" + provider;
    if (!provider.empty()) table->add(provider + "/" + it.key(), p);
    if (provider.empty() || first_party(provider) || !table->find_exact(it.key()))
      table->add(it.key(), std::move(p));
    ++n;
  }
  return n;
}

std::string basename_no_ext(const std::string& path) {
  size_t slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  size_t dot = base.rfind('.');
  return dot == std::string::npos ? base : base.substr(0, dot);
}

bool load_json_file(const std::string& path, PriceTable* table, bool in_dir, std::string* error) {
  std::string text;
  if (!read_file(path, &text, error)) return false;
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    *error = "price table " + path + " is not a JSON object";
    return false;
  }
  if (is_portkey(doc)) {
    load_portkey(doc, basename_no_ext(path), table);
  } else if (in_dir) {
    return true;  // a non-Portkey file in a Portkey directory: ignore
  } else {
    load_litellm(doc, table);
  }
  return true;
}

}  // namespace

std::shared_ptr<PriceTable> PriceTable::load(const std::string& path, std::string* error) {
  std::string scratch;
  if (!error) error = &scratch;
  auto table = std::make_shared<PriceTable>();
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    *error = "cannot open price table " + path;
    return nullptr;
  }
  if (S_ISDIR(st.st_mode)) {
    std::vector<std::string> files;
    if (DIR* d = ::opendir(path.c_str())) {
      while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0)
          files.push_back(path + "/" + name);
      }
      ::closedir(d);
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files)
      if (!load_json_file(f, table.get(), true, error)) return nullptr;
  } else if (!load_json_file(path, table.get(), false, error)) {
    return nullptr;
  }
  if (table->size() == 0) {
    *error = "price table " + path + " has no per-token prices";
    return nullptr;
  }
  return table;
}

void PriceTable::add(std::string model, ModelPrice price) {
  prices_[std::move(model)] = std::move(price);
}

const ModelPrice* PriceTable::find_exact(std::string_view model) const {
  auto it = prices_.find(std::string(model));
  return it == prices_.end() ? nullptr : &it->second;
}

const ModelPrice* PriceTable::find(std::string_view model) const {
  if (const ModelPrice* p = find_exact(model)) return p;
  size_t slash = model.find('/');
  if (slash != std::string_view::npos) return find_exact(model.substr(slash + 1));
  return nullptr;
}

}  // namespace tollgate
