// PolicySide and ActualSide (see side.h).
#include "tools/dryrun/side.h"

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "compiler/ast.h"
#include "tools/dryrun/bytes.h"
#include "tools/dryrun/numeric.h"

namespace tollgate::dryrun {

namespace {

const char* const kBuiltins[] = {"tenant",     "model",         "request_id", "status", "in_tokens",
                                 "out_tokens", "cached_tokens", "attempt",    "ts"};

InputBinding::Kind builtin_kind(const std::string& f) {
  if (f == "tenant") return InputBinding::Tenant;
  if (f == "model") return InputBinding::Model;
  if (f == "request_id") return InputBinding::RequestId;
  if (f == "status") return InputBinding::Status;
  if (f == "in_tokens") return InputBinding::InTokens;
  if (f == "out_tokens") return InputBinding::OutTokens;
  if (f == "cached_tokens") return InputBinding::CachedTokens;
  if (f == "attempt") return InputBinding::Attempt;
  if (f == "ts") return InputBinding::Ts;
  return InputBinding::Unset;
}

std::string strip_attrs(const std::string& f) {
  return f.compare(0, 6, "attrs.") == 0 ? f.substr(6) : f;
}

}  // namespace

bool is_builtin_field(const std::string& name) {
  for (const char* b : kBuiltins)
    if (name == b) return true;
  return false;
}

std::string Side::route_label(int32_t r) const {
  if (r < 0 || static_cast<size_t>(r) >= stats_.routes.size()) return "-";
  const RoutePrice& p = stats_.routes[r];
  if (stats_.actual) return p.batch ? p.model + " (batch)" : p.model;
  return p.name + " (" + p.model + ")";
}

namespace {

class PolicySide : public Side {
 public:
  PolicySide(const Policy& policy, const SideOptions& opts,
             std::map<std::string, uint64_t>* warnings)
      : policy_(policy),
        req_(policy),
        opts_(opts),
        cache_(opts.cache_ttl_ms),
        warnings_(warnings) {}

  bool init(const PriceTable* prices, AttrKeys* keys, std::string* error) {
    stats_.policy = policy_.name();
    ledger_.bind(policy_.budgets());
    const Program& prog = policy_.program();
    std::unordered_map<std::string, uint32_t> model_ids;
    std::string unpriced;
    for (size_t i = 0; i < policy_.routes().size(); ++i) {
      const RouteInfo& ri = policy_.routes()[i];
      double in = -1, out = -1;
      if (i < prog.routes.size() && prog.routes[i].has_inline_price) {
        in = prog.routes[i].in_per_million / 1e6;
        out = prog.routes[i].out_per_million / 1e6;
      }
      RoutePrice p = resolve_price(ri.name, ri.model, ri.batch, ri.self_hosted, in, out, prices);
      if (!p.priced) {
        if (!unpriced.empty()) unpriced += ", ";
        unpriced += "route " + ri.name + " (model \"" + ri.model + "\")";
      }
      stats_.routes.push_back(p);
      route_model_.push_back(model_ids.emplace(ri.model, model_ids.size()).first->second);
    }
    if (!unpriced.empty() && !opts_.allow_unpriced) {
      *error = policy_.file() + ": no price for " + unpriced +
               " in the price table (add it, give the route an inline price, or pass "
               "--allow-unpriced to count it as $0)";
      return false;
    }
    for (size_t i = 0; i < policy_.inputs().size(); ++i) {
      const InputInfo& in = policy_.inputs()[i];
      InputBinding b;
      b.name = in.name;
      b.slot = policy_.slot(in.name);
      b.type = in.type;
      auto set = opts_.set.find(in.name);
      auto map = opts_.map.find(in.name);
      if (set != opts_.set.end()) {
        b.kind = InputBinding::Const;
        b.value = set->second;
      } else if (map != opts_.map.end()) {
        std::string f = strip_attrs(map->second);
        b.kind = builtin_kind(f);
        if (b.kind == InputBinding::Unset || f != map->second) {
          b.kind = InputBinding::Attr;
          b.attr = keys->intern(f);
        }
      } else if (in.name == "attempt") {
        b.kind = InputBinding::Attempt;
      } else if (in.name == "error") {
        b.kind = InputBinding::PrevError;
        b.fallback_attr = keys->intern("error");
      } else if ((b.kind = builtin_kind(in.name)) == InputBinding::Unset) {
        b.kind = InputBinding::Attr;
        b.attr = keys->intern(in.name);
      }
      // Constants are checked once, up front.
      if (b.kind == InputBinding::Const) {
        Request probe(policy_);
        Status st = probe.set(in.name, b.value);
        if (st != Status::Ok) {
          *error = "--set " + in.name + "=" + b.value + ": " + to_string(st) + describe(in);
          return false;
        }
      }
      bindings_.push_back(std::move(b));
    }
    return true;
  }

  std::string rule_text(const Decision* d, Field f) const override {
    if (!d) return "";
    int32_t r = d->rule_for(f);
    if (r < 0 || static_cast<size_t>(r) >= policy_.rules().size()) return "";
    const RuleInfo& ri = policy_.rules()[r];
    return "line " + std::to_string(ri.line) + ": " + ri.text;
  }

  void share_work_with(const Side& earlier) override {
    auto* e = dynamic_cast<const PolicySide*>(&earlier);
    if (!e) return;
    ledger_.share_keys(e->ledger_.keys());
    if (e->bindings_.size() != bindings_.size()) return;
    // Bound to the record the same way; copy_from checks the inputs themselves (names, types,
    // enum members) and takes care of differing defaults and literals.
    for (size_t i = 0; i < bindings_.size(); ++i) {
      const InputBinding &a = bindings_[i], &b = e->bindings_[i];
      if (a.kind != b.kind || a.slot != b.slot || a.value != b.value || a.attr != b.attr ||
          a.fallback_attr != b.fallback_attr)
        return;
    }
    if (req_.copy_from(e->req_) != Status::Ok) return;
    req_.reset();
    twin_ = e;
  }

  void process(const LogRecord& rec, const AttemptContext& ctx, Outcome* out) override {
    *out = Outcome();
    if (rec.attempt > 0 && !ctx.prev_made) {
      out->dropped = true;
      return;
    }
    // The inputs read from the context (attempt, previous error) are the same for both sides.
    if (twin_ && twin_->filled_seq_ == rec.seq)
      copy_inputs(*twin_);
    else
      fill(rec, ctx);
    filled_seq_ = rec.seq;
    req_.now_ms = rec.ts_ms == 0 ? 1 : rec.ts_ms;
    policy_.decide(req_, ledger_, &d_);
    out->decision = &d_;
    if (rec.attempt == 0) {
      if (d_.denied) {
        out->denied = true;
        return;
      }
    } else if (d_.denied || !(d_.retry || d_.route != ctx.prev_route)) {
      out->dropped = true;  // the policy would not retry (nor fall back to another route)
      return;
    }
    if (d_.route < 0 || static_cast<size_t>(d_.route) >= stats_.routes.size()) {
      out->denied = rec.attempt == 0;
      out->dropped = rec.attempt != 0;
      return;
    }
    out->made = true;
    out->route = d_.route;
    const RoutePrice& rp = stats_.routes[d_.route];
    CallShape c;
    c.in_tokens = rec.in_tokens;
    c.out_tokens = rec.out_tokens;
    c.max_in = d_.max_in;
    c.max_out = d_.max_out;
    c.rag_off = d_.rule_for(Field::Rag) >= 0 && !d_.rag;
    if (c.rag_off) {
      if (std::optional<std::string_view> v = rec.attr(opts_.rag_attr))
        c.rag_tokens = parse_int(*v);
    }
    c.cache_prompt = d_.cache == CacheMode::Prompt;
    if (c.cache_prompt) {
      if (!rec.hash_ids.empty())
        c.cache_tokens = cache_.lookup_and_insert(route_model_[d_.route], rec.hash_ids, rec.ts_ms) *
                         rec.block_size;
      else
        c.cache_tokens = rec.cached_tokens;
    }
    out->cost = price_call(rp, c);
    charge(rec, out->cost);
  }

 private:
  static std::string describe(const InputInfo& in) {
    if (in.type != InputType::Enum) return "";
    std::string s = "; " + in.name + " is one of ";
    for (size_t i = 0; i < in.members.size(); ++i) s += (i ? ", " : "") + in.members[i];
    return s;
  }

  // The common case, 1 to 18 decimal digits, inline; anything else goes to from_chars/strtod.
  static bool plain_int(std::string_view t, int64_t* out) {
    if (t.empty() || t.size() > 18) return false;
    int64_t v = 0;
    for (char c : t) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    *out = v;
    return true;
  }

  // Lenient: a leading number ("12.7 tokens" is 12), else 0.
  static int64_t parse_int(std::string_view text) {
    int64_t v = 0;
    if (plain_int(text, &v)) return v;
    std::string s(text);
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if ((r.ec != std::errc() || r.ptr != s.data() + s.size()) &&
        !double_to_int64(std::strtod(s.c_str(), nullptr), &v))
      v = 0;
    return v;
  }

  void warn(const InputBinding& b, std::string_view value, Status st) {
    std::string w = "input " + b.name + ": value \"" + std::string(value.substr(0, 40)) + "\" " +
                    to_string(st) + " (left unset)";
    ++(*warnings_)[w];
    fill_warnings_.push_back(std::move(w));
  }

  // The inputs `twin` decoded from this record (string literal ids are per policy: copy_from
  // recomputes them unless both policies have the same literals) with the warnings this side's
  // own decoding would have counted.
  void copy_inputs(const PolicySide& twin) {
    req_.copy_from(twin.req_);  // share_work_with checked the schemas match
    for (const std::string& w : twin.fill_warnings_) ++(*warnings_)[w];
  }

  void set_text(const InputBinding& b, std::string_view text) {
    Status st = Status::Ok;
    switch (b.type) {
      case InputType::String:
        st = req_.set_string(b.slot, text);
        break;
      case InputType::Enum: {
        // Members are few: a scan of the names seen, compared a word at a time, beats hashing
        // the text every record.
        for (const auto& [name, member] : b.enum_cache) {
          if (name.size() == text.size() && bytes_equal(name.data(), text.data(), text.size())) {
            st = req_.set_enum(b.slot, member);
            goto done;
          }
        }
        st = req_.set_enum(b.slot, text);
        if (st == Status::Ok && b.enum_cache.size() < 64) {
          const auto& members = policy_.inputs()[b.slot].members;
          for (size_t m = 0; m < members.size(); ++m)
            if (members[m] == text) b.enum_cache.emplace_back(members[m], static_cast<int>(m));
        }
        break;
      }
      case InputType::Int: {
        int64_t v = 0;
        if (plain_int(text, &v)) {
          st = req_.set_int(b.slot, v);
        } else if (auto r = std::from_chars(text.data(), text.data() + text.size(), v);
                   r.ec == std::errc() && r.ptr == text.data() + text.size()) {
          st = req_.set_int(b.slot, v);
        } else {
          std::string t(text);
          char* end = nullptr;
          double d = std::strtod(t.c_str(), &end);
          int64_t iv = 0;
          st = (t.empty() || *end || !double_to_int64(d, &iv)) ? Status::BadValue
                                                               : req_.set_int(b.slot, iv);
        }
        break;
      }
      case InputType::Float: {
        std::string t(text);
        char* end = nullptr;
        double d = std::strtod(t.c_str(), &end);
        st = (t.empty() || *end) ? Status::BadValue : req_.set_float(b.slot, d);
        break;
      }
      case InputType::Bool:
        if (text == "true" || text == "1")
          st = req_.set_bool(b.slot, true);
        else if (text == "false" || text == "0")
          st = req_.set_bool(b.slot, false);
        else
          st = Status::BadValue;
        break;
    }
  done:
    if (st != Status::Ok) warn(b, text, st);
  }

  void set_number(const InputBinding& b, int64_t v) {
    Status st;
    if (b.type == InputType::Int)
      st = req_.set_int(b.slot, v);
    else if (b.type == InputType::Float)
      st = req_.set_float(b.slot, static_cast<double>(v));
    else {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, v);
      set_text(b, std::string_view(buf, r.ptr - buf));
      return;
    }
    if (st != Status::Ok) warn(b, std::to_string(v), st);
  }

  void fill(const LogRecord& rec, const AttemptContext& ctx) {
    req_.reset();
    fill_warnings_.clear();
    for (const InputBinding& b : bindings_) {
      switch (b.kind) {
        case InputBinding::Unset:
          break;
        case InputBinding::Const:
          set_text(b, b.value);
          break;
        case InputBinding::Tenant:
          if (!rec.tenant.empty()) set_text(b, rec.tenant);
          break;
        case InputBinding::Model:
          if (!rec.model.empty()) set_text(b, rec.model);
          break;
        case InputBinding::RequestId:
          if (!rec.request_id.empty()) set_text(b, rec.request_id);
          break;
        case InputBinding::Status:
          set_text(b, rec.status);
          break;
        case InputBinding::InTokens:
          set_number(b, rec.in_tokens);
          break;
        case InputBinding::OutTokens:
          set_number(b, rec.out_tokens);
          break;
        case InputBinding::CachedTokens:
          set_number(b, rec.cached_tokens);
          break;
        case InputBinding::Attempt:
          set_number(b, ctx.decision_attempt);
          break;
        case InputBinding::Ts:
          set_number(b, rec.ts_ms);
          break;
        case InputBinding::PrevError: {
          std::optional<std::string_view> logged;
          if (b.fallback_attr >= 0) logged = rec.attr(static_cast<uint32_t>(b.fallback_attr));
          if (logged)
            set_text(b, *logged);
          else if (!ctx.prev_error.empty())
            set_text(b, ctx.prev_error);
          break;
        }
        case InputBinding::Attr:
          if (std::optional<std::string_view> v = rec.attr(b.attr)) set_text(b, *v);
          break;
      }
    }
  }

  void charge(const LogRecord& rec, const CallCost& cost) {
    const auto& budgets = policy_.budgets();
    int32_t keyed_by = -2;  // budgets keyed by the same input share one key computation
    double usd = -1;        // the 128-bit division once per call, not once per budget
    char key_buf[32];
    uint32_t key_id = 0;
    for (size_t i = 0; i < budgets.size(); ++i) {
      const BudgetInfo& b = budgets[i];
      double amount = 0;
      switch (b.unit) {
        case BudgetUnit::Usd:
          if (usd < 0) usd = pico_to_usd(cost.cost);
          amount = usd;
          break;
        case BudgetUnit::Tokens:
          amount = static_cast<double>(cost.in_billed + cost.out_billed);
          break;
        case BudgetUnit::Requests:
          amount = 1;
          break;
      }
      if (b.key_input != keyed_by) {
        key_id = ledger_.key_id(key_text(i, key_buf));
        keyed_by = b.key_input;
      }
      ledger_.add_bound(i, key_id, req_.now_ms, amount);
    }
  }

  // Budget i's key for the request: a string input set on it is its own text (the usual "per
  // tenant"); enum names, numbers and defaults go through Policy::budget_key.
  // (key_input is the input's index, which is also its slot.)
  std::string_view key_text(size_t i, char (&buf)[32]) const {
    int32_t k = policy_.budgets()[i].key_input;
    if (k >= 0 && policy_.inputs()[k].type == InputType::String) {
      const Slot& s = req_.slots()[k];
      if (s.set) return std::string_view(s.str, s.len);
    }
    return policy_.budget_key(static_cast<int>(i), req_, buf);
  }

  Policy policy_;
  Request req_;
  SideOptions opts_;
  SimLedger ledger_;
  PrefixCache cache_;
  std::vector<InputBinding> bindings_;
  // share_work_with: the side whose decoded inputs this one copies, and the record (by arrival
  // number) each side last decoded.
  const PolicySide* twin_ = nullptr;
  uint64_t filled_seq_ = UINT64_MAX;
  std::vector<std::string> fill_warnings_;  // what the last fill() counted
  std::vector<uint32_t> route_model_;
  Decision d_;
  std::map<std::string, uint64_t>* warnings_;
};

// What the log says happened: every attempt made, on the logged model, with the logged tokens
// (cached ones at the cache-read price), batch prices where the record is marked batch.
class ActualSide : public Side {
 public:
  ActualSide(const PriceTable* prices, const SideOptions& opts) : prices_(prices), opts_(opts) {
    stats_.actual = true;
  }

  void process(const LogRecord& rec, const AttemptContext&, Outcome* out) override {
    *out = Outcome();
    std::optional<std::string_view> b = rec.attr(opts_.batch_attr);
    bool batch = b && (*b == "true" || *b == "1");
    int32_t r = route_for(rec, batch);
    if (r < 0) return;
    out->made = true;
    out->route = r;
    CallShape c;
    c.in_tokens = rec.in_tokens;
    c.out_tokens = rec.out_tokens;
    c.cache_tokens = rec.cached_tokens;
    c.cache_prompt = true;
    out->cost = price_call(stats_.routes[r], c);
  }

 private:
  int32_t route_for(const LogRecord& rec, bool batch) {
    key_.assign(rec.model);
    key_.push_back(batch ? '\1' : '\0');
    auto it = ids_.find(key_);
    if (it != ids_.end()) return it->second;
    if (rec.model.empty()) {
      fatal_ = "record at line " + std::to_string(rec.line) +
               " has no model, so `actual` cannot be priced (pass --set model=NAME)";
      return -1;
    }
    RoutePrice p = resolve_price(rec.model.str(), rec.model.str(), batch, false, -1, -1, prices_);
    if (!p.priced && !opts_.allow_unpriced) {
      fatal_ = "logged model \"" + rec.model.str() + "\" (line " + std::to_string(rec.line) +
               ") has no price in the price table (pass --allow-unpriced to count it as $0)";
      return -1;
    }
    int32_t id = static_cast<int32_t>(stats_.routes.size());
    stats_.routes.push_back(p);
    ids_.emplace(key_, id);
    return id;
  }

  const PriceTable* prices_;
  SideOptions opts_;
  std::unordered_map<std::string, int32_t> ids_;
  std::string key_;
};

}  // namespace

std::unique_ptr<Side> make_policy_side(const Policy& policy, const PriceTable* prices,
                                       const SideOptions& opts, AttrKeys* keys,
                                       std::map<std::string, uint64_t>* warnings,
                                       std::string* error) {
  auto side = std::make_unique<PolicySide>(policy, opts, warnings);
  if (!side->init(prices, keys, error)) return nullptr;
  return side;
}

std::unique_ptr<Side> make_actual_side(const PriceTable* prices, const SideOptions& opts,
                                       std::map<std::string, uint64_t>*) {
  return std::make_unique<ActualSide>(prices, opts);
}

}  // namespace tollgate::dryrun
