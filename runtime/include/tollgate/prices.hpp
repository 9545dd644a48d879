// Model price tables: LiteLLM's model_prices_and_context_window.json and Portkey's pricing files,
// normalised to USD per token. Used to resolve route models at compile time and by the dry-run.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tollgate {

struct ModelPrice {
  double in_per_token = 0;                     // USD per input token
  double out_per_token = 0;                    // USD per output token
  std::optional<double> cache_read_per_token;  // USD per cached input token, when the table has it
  std::optional<double> cache_write_per_token;
  std::optional<double> batch_in_per_token;  // batch-mode prices, when the table has them
  std::optional<double> batch_out_per_token;
  std::string source;  // "litellm", "portkey:openai", "inline"
};

class PriceTable {
 public:
  // Loads a LiteLLM JSON file, a Portkey pricing JSON file, or a directory of Portkey files,
  // detected by content. On failure returns null and sets *error.
  static std::shared_ptr<PriceTable> load(const std::string& path, std::string* error);

  void add(std::string model, ModelPrice price);
  // Exact model id first, then without a "provider/" prefix.
  const ModelPrice* find(std::string_view model) const;
  // Exact model id only (no prefix stripping).
  const ModelPrice* find_exact(std::string_view model) const;
  size_t size() const { return prices_.size(); }

 private:
  std::unordered_map<std::string, ModelPrice> prices_;
};

}  // namespace tollgate
