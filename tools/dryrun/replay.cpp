// The replay loop (see replay.h).
#include "tools/dryrun/replay.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <queue>
#include <unordered_map>

#include "tools/dryrun/interner.h"
#include "tools/dryrun/packed_record.h"
#include "tools/dryrun/timeparse.h"

namespace tollgate::dryrun {

namespace {

using Clock = std::chrono::steady_clock;

// A FIFO of at most `capacity` items in one array (the run of in-order records of a Stream): no
// allocation after construction and no block map to walk, unlike std::deque.
template <typename T>
class Ring {
 public:
  explicit Ring(size_t capacity) {
    size_t n = 1;
    while (n < capacity) n *= 2;
    items_.resize(n);
    mask_ = n - 1;
  }
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  const T& front() const { return items_[head_]; }
  const T& back() const { return items_[(head_ + size_ - 1) & mask_]; }
  const T& operator[](size_t i) const { return items_[(head_ + i) & mask_]; }
  void push_back(const T& v) {  // the caller keeps size() below the capacity
    items_[(head_ + size_) & mask_] = v;
    ++size_;
  }
  void pop_front() {
    head_ = (head_ + 1) & mask_;
    --size_;
  }

 private:
  std::vector<T> items_;
  size_t head_ = 0, size_ = 0, mask_ = 0;
};

// One log file: its reader and a bounded reorder buffer of packed records. Records arriving in
// order go to a FIFO run (O(1)); only out-of-order ones pay for the min-heap. The earliest
// record is the smaller of the run's front and the heap's top. Records are parsed into one hot
// LogRecord, held packed (see packed_record.h), and unpacked into another when their turn comes.
class Stream {
 public:
  Stream(std::unique_ptr<LogReader> reader, size_t window, uint64_t* seq)
      : reader_(std::move(reader)), window_(std::max<size_t>(window, 1)), seq_(seq), run_(window_) {
    pool_.resize(window_);
    for (size_t i = 0; i < pool_.size(); ++i) free_.push_back(static_cast<uint32_t>(i));
  }

  // The earliest buffered record, refilling first; null when the file is exhausted. The record
  // stays valid (and may be modified) until pop().
  LogRecord* top() {
    while (!done_ && run_.size() + heap_.size() < window_) {
      if (!reader_->next(&incoming_)) {
        done_ = true;
        break;
      }
      uint32_t idx = free_.back();
      free_.pop_back();
      incoming_.seq = (*seq_)++;
      pool_[idx].pack(incoming_);
      Entry e{incoming_.ts_ms, incoming_.seq, idx};
      if (run_.empty() || !(run_.back() > e))
        run_.push_back(e);
      else
        heap_.push(e);
    }
    const Entry* e = min_entry();
    if (!e) return nullptr;
    if (run_.size() > kPrefetchAhead) pool_[run_[kPrefetchAhead].idx].prefetch();
    if (current_idx_ != e->idx) {
      pool_[e->idx].unpack(&current_);
      current_idx_ = e->idx;
    }
    return &current_;
  }
  void pop() {
    bool from_run = !run_.empty() && (heap_.empty() || !(run_.front() > heap_.top()));
    if (from_run) {
      free_.push_back(run_.front().idx);
      run_.pop_front();
    } else {
      free_.push_back(heap_.top().idx);
      heap_.pop();
    }
    current_idx_ = UINT32_MAX;
  }
  LogReader& reader() { return *reader_; }

 private:
  struct Entry {
    int64_t ts;
    uint64_t seq;
    uint32_t idx;
    bool operator>(const Entry& o) const { return ts != o.ts ? ts > o.ts : seq > o.seq; }
  };
  const Entry* min_entry() const {
    if (run_.empty()) return heap_.empty() ? nullptr : &heap_.top();
    if (heap_.empty()) return &run_.front();
    return run_.front() > heap_.top() ? &heap_.top() : &run_.front();
  }
  std::unique_ptr<LogReader> reader_;
  size_t window_;
  uint64_t* seq_;
  std::vector<PackedRecord> pool_;
  std::vector<uint32_t> free_;
  Ring<Entry> run_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;
  LogRecord incoming_, current_;       // the one being read, the earliest (unpacked)
  uint32_t current_idx_ = UINT32_MAX;  // pool slot current_ holds
  bool done_ = false;
  // The default window (2.5 MB packed) outgrows L2: fetching the block of the record due four
  // records from now measured 0-8% faster replays (dryrun_bench, six A/B pairs).
  static constexpr size_t kPrefetchAhead = 4;
};

// Per-request memory for retries: only requests whose last attempt failed are kept.
struct RequestState {
  int64_t ts = 0;
  std::string status;
  bool made[2] = {true, true};
  int32_t route[2] = {-1, -1};
};

struct ChangeKey {
  uint8_t field;
  int64_t from, to;
  bool operator==(const ChangeKey& o) const {
    return field == o.field && from == o.from && to == o.to;
  }
};
struct ChangeKeyHash {
  size_t operator()(const ChangeKey& k) const {
    uint64_t h = k.field * 0x9E3779B97F4A7C15ULL;
    h ^= static_cast<uint64_t>(k.from) + 0x632BE59BD9B4E019ULL + (h << 6) + (h >> 2);
    h ^= static_cast<uint64_t>(k.to) + 0x85EBCA77C2B2AE63ULL + (h << 6) + (h >> 2);
    return h;
  }
};

enum ChangeField : uint8_t {
  kRoute,
  kDeny,
  kAllow,
  kRetryDropped,
  kRetryAdded,
  kMaxOut,
  kMaxIn,
  kRag,
  kCache
};
const char* const kFieldNames[] = {"route",   "deny",   "allow", "retry", "retry",
                                   "max_out", "max_in", "rag",   "cache"};

class Replayer {
 public:
  Replayer(const ReplayOptions& o, const PriceTable* prices, ReplayData* out)
      : o_(o), prices_(prices), out_(out) {}

  bool setup(const SideSpec& base, const SideSpec& head, std::string* error) {
    SideOptions so = o_.side;
    auto pseudo = [&](const char* name) {
      auto it = so.map.find(name);
      std::string f = it == so.map.end() ? name : it->second;
      if (f.compare(0, 6, "attrs.") == 0) f = f.substr(6);
      return keys_.intern(f);
    };
    so.rag_attr = pseudo("rag_tokens");
    so.batch_attr = pseudo("batch");
    task_attr_ = pseudo("task");
    // --set / --map must name an input of either policy (or a record field for --set).
    auto known = [&](const std::string& n) {
      for (const SideSpec* s : {&base, &head})
        if (s->policy && s->policy->slot(n) >= 0) return true;
      return false;
    };
    for (const auto& [n, v] : so.set) {
      if (!known(n) && n != "model" && n != "tenant") {
        *error = "--set " + n + ": neither policy has an input named " + n;
        return false;
      }
    }
    for (const auto& [n, f] : so.map) {
      if (!known(n) && n != "rag_tokens" && n != "task" && n != "batch") {
        *error = "--map " + n + "=" + f + ": neither policy has an input named " + n;
        return false;
      }
    }
    auto set_model = so.set.find("model");
    if (set_model != so.set.end()) default_model_ = set_model->second;
    auto set_tenant = so.set.find("tenant");
    if (set_tenant != so.set.end()) default_tenant_ = set_tenant->second;

    if (!make_side(base, so, &base_, error) || !make_side(head, so, &head_, error)) return false;
    head_->share_work_with(*base_);
    base_->stats().role = "base";
    base_->stats().source = base.source;
    head_->stats().role = "head";
    head_->stats().source = head.source;
    return true;
  }

  bool open(const std::vector<std::string>& paths, const std::vector<std::string>* texts,
            std::string* error) {
    size_t n = texts ? texts->size() : paths.size();
    for (size_t i = 0; i < n; ++i) {
      ReaderOptions ro;
      ro.keys = &keys_;
      ro.stats = &out_->read;
      ro.file_index = static_cast<uint32_t>(i);
      ro.file_name = texts ? "log" + std::to_string(i + 1) : paths[i];
      ro.start_ms = o_.start_ms;
      file_names_.push_back(ro.file_name);
      std::unique_ptr<LogReader> r = texts ? open_log_text((*texts)[i], o_.format, ro, error)
                                           : open_log(paths[i], o_.format, ro, error);
      if (!r) return false;
      out_->logs.push_back(ro.file_name + " (" + to_string(r->format()) + ")");
      streams_.push_back(std::make_unique<Stream>(std::move(r), o_.reorder_window, &seq_));
    }
    // A --map naming a field the log does not have is one clear error before replay starts.
    for (size_t i = 0; i < streams_.size(); ++i) {
      LogRecord* first = streams_[i]->top();
      std::vector<std::string> declared = streams_[i]->reader().declared_fields();
      for (const auto& [input, field] : o_.side.map) {
        std::string f = field.compare(0, 6, "attrs.") == 0 ? field.substr(6) : field;
        if (is_builtin_field(f) && f == field) continue;
        bool found = std::find(declared.begin(), declared.end(), f) != declared.end();
        if (!found && first) found = first->attr(keys_.intern(f)).has_value();
        if (!found && (first || !declared.empty())) {
          std::string have;
          if (!declared.empty()) {
            for (const auto& d : declared) have += (have.empty() ? "" : ", ") + d;
          } else {
            for (size_t a = 0; a < first->attr_count(); ++a)
              have += (have.empty() ? "" : ", ") + keys_.name(first->attr_key(a));
          }
          *error = "--map " + input + "=" + field + ": " + file_names_[i] + " has no field \"" + f +
                   "\"" + (have.empty() ? "" : " (it has: " + have + ")");
          return false;
        }
      }
    }
    return true;
  }

  bool run(std::string* error) {
    auto t0 = Clock::now();
    auto last_print = t0;
    int64_t watermark = INT64_MIN;
    bool any = false;
    for (;;) {
      // Merge: the stream whose buffered head is earliest.
      Stream* best = nullptr;
      LogRecord* rec = nullptr;
      for (auto& s : streams_) {
        LogRecord* r = s->top();
        if (r && (!rec || r->ts_ms < rec->ts_ms || (r->ts_ms == rec->ts_ms && r->seq < rec->seq))) {
          rec = r;
          best = s.get();
        }
      }
      if (!rec) break;
      if (rec->ts_ms < watermark)
        ++out_->late_records;
      else
        watermark = rec->ts_ms;
      if (!any) out_->first_ts = rec->ts_ms;
      any = true;
      out_->first_ts = std::min(out_->first_ts, rec->ts_ms);
      out_->last_ts = std::max(out_->last_ts, rec->ts_ms);
      process(*rec);
      best->pop();
      if (!base_->fatal().empty() || !head_->fatal().empty()) {
        *error = !base_->fatal().empty() ? base_->fatal() : head_->fatal();
        return false;
      }
      if (o_.progress && (out_->records & 0xFFFF) == 0) {
        auto now = Clock::now();
        if (now - last_print > std::chrono::milliseconds(250)) {
          last_print = now;
          print_progress(t0, now);
        }
      }
    }
    if (o_.progress) std::fputs("\r\033[K", stderr);
    out_->seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    for (size_t i = 0; i < streams_.size(); ++i) {
      std::string e = streams_[i]->reader().stream_error();
      if (!e.empty()) out_->warnings[file_names_[i] + ": " + e + " (input ends early)"] += 1;
    }
    finish();
    return true;
  }

 private:
  bool make_side(const SideSpec& spec, const SideOptions& so, std::unique_ptr<Side>* out,
                 std::string* error) {
    if (!spec.policy) {
      *out = make_actual_side(prices_, so, &out_->warnings);
      return true;
    }
    *out = make_policy_side(*spec.policy, prices_, so, &keys_, &out_->warnings, error);
    return *out != nullptr;
  }

  void print_progress(Clock::time_point t0, Clock::time_point now) {
    uint64_t done = 0, total = 0;
    for (auto& s : streams_) {
      done += s->reader().bytes_read();
      total += s->reader().bytes_total();
    }
    double secs = std::chrono::duration<double>(now - t0).count();
    double rate = secs > 0 ? static_cast<double>(out_->records) / secs : 0;
    if (total > 0)
      std::fprintf(stderr, "\r\033[Kdryrun: %llu records, %.0f records/s, %.0f%%",
                   static_cast<unsigned long long>(out_->records), rate,
                   100.0 * static_cast<double>(done) / static_cast<double>(total));
    else
      std::fprintf(stderr, "\r\033[Kdryrun: %llu records, %.0f records/s",
                   static_cast<unsigned long long>(out_->records), rate);
    std::fflush(stderr);
  }

  void process(LogRecord& rec) {
    ++out_->records;
    if (rec.model.empty() && !default_model_.empty()) rec.model = default_model_;
    if (rec.tenant.empty() && !default_tenant_.empty()) rec.tenant = default_tenant_;
    uint32_t tenant = tenants_.id(rec.tenant.empty() ? std::string_view("(none)") : rec.tenant);
    std::optional<std::string_view> task_v = rec.attr(task_attr_);
    uint32_t task = tasks_.id(task_v ? *task_v : std::string_view("(none)"));
    int64_t day = rec.ts_ms >= 0 ? rec.ts_ms / 86400000 : -((-rec.ts_ms + 86399999) / 86400000);
    int64_t minute = rec.ts_ms >= 0 ? rec.ts_ms / 60000 : -((-rec.ts_ms + 59999) / 60000);

    AttemptContext ctx[2];
    RequestState* st = nullptr;
    if (rec.attempt > 0) {
      if (!pending_.empty() && !rec.request_id.empty()) {
        auto it = pending_.find(rec.request_id.str());  // retries only: a few % of records
        if (it != pending_.end()) st = &it->second;
      }
      for (int s = 0; s < 2; ++s) {
        ctx[s].decision_attempt = rec.attempt - 1;
        if (st) {
          ctx[s].prev_error = st->status;
          ctx[s].prev_made = st->made[s];
          ctx[s].prev_route = st->route[s];
        } else {
          ++out_->warnings["retries whose previous attempt is not in the log (assumed made)"];
        }
      }
    }
    Outcome ob, oh;
    base_->process(rec, ctx[0], &ob);
    head_->process(rec, ctx[1], &oh);
    if (!base_->fatal().empty() || !head_->fatal().empty()) return;
    Pico logged_cost = 0;
    if (ob.dropped || oh.dropped) logged_cost = actual_cost(rec);
    account(base_.get(), rec, tenant, task, day, minute, ob, logged_cost);
    account(head_.get(), rec, tenant, task, day, minute, oh, logged_cost);
    compare(rec, tenant, task, ob, oh);

    // Remember failed attempts so their retries know the error and what each side did.
    if (!rec.ok() && !rec.request_id.empty()) {
      if (!st) {
        if (pending_.size() >= 200000) sweep(rec.ts_ms);
        st = &pending_[rec.request_id.str()];
      }
      st->ts = rec.ts_ms;
      st->status = rec.status;
      st->made[0] = ob.made;
      st->made[1] = oh.made;
      st->route[0] = ob.made ? ob.route : -1;
      st->route[1] = oh.made ? oh.route : -1;
    } else if (st) {
      pending_.erase(rec.request_id.str());
    }
  }

  void sweep(int64_t now) {
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (now - it->second.ts > 3600000)
        it = pending_.erase(it);
      else
        ++it;
    }
  }

  // The logged call priced as it happened (for the cost of retries a side drops).
  Pico actual_cost(const LogRecord& rec) {
    std::string model = rec.model.str();  // dropped retries only
    auto it = model_price_.find(model);
    if (it == model_price_.end())
      it = model_price_.emplace(model, resolve_price(model, model, false, false, -1, -1, prices_))
               .first;
    CallShape c;
    c.in_tokens = rec.in_tokens;
    c.out_tokens = rec.out_tokens;
    c.cache_tokens = rec.cached_tokens;
    c.cache_prompt = true;
    return price_call(it->second, c).cost;
  }

  static Bucket& at(std::vector<Bucket>& v, uint32_t i) {
    if (i >= v.size()) v.resize(i + 1);
    return v[i];
  }

  void account(Side* side, const LogRecord& rec, uint32_t tenant, uint32_t task, int64_t day,
               int64_t minute, const Outcome& o, Pico logged_cost) {
    SideStats& s = side->stats();
    // Records arrive in time order: the day bucket and minute slot rarely change.
    TimeSlots& ts = slots_[side == base_.get() ? 0 : 1];
    if (day != ts.day) {
      ts.day = day;
      ts.day_bucket = &s.by_day[day];  // std::map nodes are stable
    }
    Bucket* bs[3] = {&at(s.by_tenant, tenant), &at(s.by_task, task), ts.day_bucket};
    if (rec.attempt == 0) {
      ++s.requests;
      for (Bucket* b : bs) ++b->requests;
    }
    if (o.decision && o.decision->errors) ++s.eval_errors;
    if (o.denied) {
      ++s.denied;
      for (Bucket* b : bs) ++b->denied;
      ++deny_reasons_[side == base_.get() ? 0 : 1][o.decision ? o.decision->deny_reason : ""];
      return;
    }
    if (o.dropped) {
      ++s.retries_dropped;
      s.retries_dropped_logged_cost += logged_cost;
      return;
    }
    if (!o.made) return;
    ++s.calls;
    if (rec.attempt > 0) ++s.retries;
    if (rec.ok()) ++s.successful;
    if (o.decision && o.decision->cache == CacheMode::Prompt) ++s.cache_prompt_calls;
    const CallCost& c = o.cost;
    s.spend += c.cost;
    s.in_tokens += c.in_billed;
    s.out_tokens += c.out_billed;
    s.cached_tokens += c.cached;
    s.rag_tokens_removed += c.rag_removed;
    s.in_hist.add(c.in_billed);
    s.out_hist.add(c.out_billed);
    Bucket& rb = s.route_bucket(o.route);
    if (!s.routes[o.route].priced)
      ++out_->warnings["calls on unpriced model " + s.routes[o.route].model + " counted as $0"];
    if (rec.attempt == 0) ++rb.requests;
    for (Bucket* b : {&rb, bs[0], bs[1], bs[2]}) {
      ++b->calls;
      b->spend += c.cost;
      b->in_tokens += c.in_billed;
      b->out_tokens += c.out_billed;
    }
    if (minute != ts.minute) {
      ts.minute = minute;
      ts.minute_spend = &s.by_minute[minute];  // unordered_map references survive rehashing
    }
    *ts.minute_spend += c.cost;
  }

  static int64_t rag_code(const Decision* d) {
    if (!d || d->rule_for(Field::Rag) < 0) return -2;  // undecided: RAG as logged
    return d->rag ? d->top_k : -1;
  }
  static std::string rag_text(int64_t code) {
    if (code == -2) return "as logged";
    if (code == -1) return "off";
    return code == 0 ? "on" : "top_k " + std::to_string(code);
  }
  static std::string cap_text(int64_t v) { return v == kNoCap ? "none" : std::to_string(v); }
  static const char* cache_text(int64_t v) {
    return v == static_cast<int64_t>(CacheMode::Prompt)     ? "prompt"
           : v == static_cast<int64_t>(CacheMode::Response) ? "response"
                                                            : "off";
  }

  int64_t label_id(Side* side, int32_t route) {
    auto& cache = label_ids_[side == base_.get() ? 0 : 1];
    if (route < 0) return -1;
    if (static_cast<size_t>(route) >= cache.size()) cache.resize(route + 1, -1);
    if (cache[route] < 0) cache[route] = labels_.id(side->route_label(route));
    return cache[route];
  }

  // Deny reasons are policy-owned strings: their address identifies the text, so the label is
  // built and interned once per reason, not once per changed record.
  int64_t deny_id(const Decision* d) {
    const char* reason = d ? d->deny_reason : "";
    auto it = deny_ids_.find(reason);
    if (it != deny_ids_.end()) return it->second;
    std::string text = "deny \"";
    text += reason;
    text += "\"";
    int64_t id = labels_.id(text);
    deny_ids_.emplace(reason, id);
    return id;
  }

  void compare(const LogRecord& rec, uint32_t tenant, uint32_t task, const Outcome& b,
               const Outcome& h) {
    bool changed = false;
    auto note = [&](ChangeField f, int64_t from, int64_t to, Field rule_field) {
      changed = true;
      record_change(rec, tenant, task, b, h, ChangeKey{f, from, to}, rule_field);
    };
    const Decision* bd = b.decision;
    const Decision* hd = h.decision;
    if (b.made && h.made) {
      int64_t lb = label_id(base_.get(), b.route), lh = label_id(head_.get(), h.route);
      if (lb != lh) note(kRoute, lb, lh, Field::Route);
      int64_t bo = bd ? bd->max_out : kNoCap, ho = hd ? hd->max_out : kNoCap;
      if (bo != ho) note(kMaxOut, bo, ho, Field::MaxOut);
      int64_t bi = bd ? bd->max_in : kNoCap, hi = hd ? hd->max_in : kNoCap;
      if (bi != hi) note(kMaxIn, bi, hi, Field::MaxIn);
      int64_t rb = rag_code(bd), rh = rag_code(hd);
      if (rb != rh) note(kRag, rb, rh, Field::Rag);
      int64_t cb = bd ? static_cast<int64_t>(bd->cache) : static_cast<int64_t>(CacheMode::Prompt);
      int64_t ch = hd ? static_cast<int64_t>(hd->cache) : static_cast<int64_t>(CacheMode::Prompt);
      if (bd && hd && cb != ch) note(kCache, cb, ch, Field::Cache);
    } else if (rec.attempt == 0) {
      if (b.made && h.denied)
        note(kDeny, label_id(base_.get(), b.route), deny_id(hd), Field::Route);
      else if (b.denied && h.made)
        note(kAllow, deny_id(bd), label_id(head_.get(), h.route), Field::Route);
      else if (b.denied && h.denied && std::string_view(bd->deny_reason) != hd->deny_reason)
        note(kDeny, deny_id(bd), deny_id(hd), Field::Route);
    } else {
      if (b.made && h.dropped)
        note(kRetryDropped, 1, 0, Field::Retry);
      else if (b.dropped && h.made)
        note(kRetryAdded, 0, 1, Field::Retry);
    }
    if (changed) ++out_->changed;
  }

  std::string from_to_text(const ChangeKey& k, bool from) {
    int64_t v = from ? k.from : k.to;
    switch (k.field) {
      case kRoute:
      case kDeny:
      case kAllow:
        return v >= 0 ? labels_.names()[v] : "-";
      case kRetryDropped:
      case kRetryAdded:
        return v ? "retried" : "not retried";
      case kMaxOut:
      case kMaxIn:
        return cap_text(v);
      case kRag:
        return rag_text(v);
      case kCache:
        return cache_text(v);
    }
    return "";
  }

  void record_change(const LogRecord& rec, uint32_t tenant, uint32_t task, const Outcome& b,
                     const Outcome& h, const ChangeKey& key, Field rule_field) {
    auto it = change_index_.find(key);
    if (it == change_index_.end()) {
      if (kinds_.size() >= o_.max_change_kinds) {
        ++out_->other_changes;
        return;
      }
      ChangeKind kind;
      kind.field = kFieldNames[key.field];
      kind.from = from_to_text(key, true);
      kind.to = from_to_text(key, false);
      it = change_index_.emplace(key, kinds_.size()).first;
      kinds_.push_back(std::move(kind));
    }
    ChangeKind& k = kinds_[it->second];
    ++k.count;
    k.base_cost += b.cost.cost;
    k.head_cost += h.cost.cost;
    if (k.examples.size() < o_.examples_per_kind) {
      ChangeExample e;
      e.where = file_names_[rec.file] + ":" + std::to_string(rec.line);
      e.request_id = rec.request_id;
      e.tenant = tenants_.names()[tenant];
      e.task = tasks_.names()[task];
      e.in_tokens = rec.in_tokens;
      e.out_tokens = rec.out_tokens;
      e.base_cost = b.cost.cost;
      e.head_cost = h.cost.cost;
      e.base_rule = base_->rule_text(b.decision, rule_field);
      e.head_rule = head_->rule_text(h.decision, rule_field);
      if (e.base_rule.empty()) e.base_rule = b.decision ? "(no rule: default)" : "(as logged)";
      if (e.head_rule.empty()) e.head_rule = h.decision ? "(no rule: default)" : "(as logged)";
      k.examples.push_back(std::move(e));
    }
  }

  void finish() {
    out_->tenants = tenants_.names();
    out_->tasks = tasks_.names();
    std::sort(kinds_.begin(), kinds_.end(),
              [](const ChangeKind& a, const ChangeKind& b) { return a.count > b.count; });
    out_->changes = std::move(kinds_);
    out_->reorder_window = o_.reorder_window;
    out_->cache_ttl_ms = o_.side.cache_ttl_ms;
    for (int s = 0; s < 2; ++s) {
      SideStats& st = s == 0 ? base_->stats() : head_->stats();
      for (const auto& [reason, n] : deny_reasons_[s]) st.deny_reasons[reason] += n;
      st.by_tenant.resize(out_->tenants.size());
      st.by_task.resize(out_->tasks.size());
      st.by_route.resize(st.routes.size());
    }
    out_->base = std::move(base_->stats());
    out_->head = std::move(head_->stats());
  }

  ReplayOptions o_;
  const PriceTable* prices_;
  ReplayData* out_;
  AttrKeys keys_;
  uint32_t task_attr_ = 0;
  std::string default_model_, default_tenant_;
  std::unique_ptr<Side> base_, head_;
  std::vector<std::unique_ptr<Stream>> streams_;
  std::vector<std::string> file_names_;
  uint64_t seq_ = 0;
  Interner tenants_, tasks_, labels_;
  std::vector<int64_t> label_ids_[2];
  struct TimeSlots {
    int64_t day = INT64_MIN, minute = INT64_MIN;
    Bucket* day_bucket = nullptr;
    Pico* minute_spend = nullptr;
  };
  TimeSlots slots_[2];
  std::unordered_map<std::string, RequestState> pending_;
  std::unordered_map<std::string, RoutePrice> model_price_;
  std::unordered_map<const char*, uint64_t> deny_reasons_[2];
  std::unordered_map<const char*, int64_t> deny_ids_;
  std::unordered_map<ChangeKey, size_t, ChangeKeyHash> change_index_;
  std::vector<ChangeKind> kinds_;
};

bool replay_impl(const SideSpec& base, const SideSpec& head, const PriceTable* prices,
                 const ReplayOptions& options, const std::vector<std::string>* texts,
                 ReplayData* out, std::string* error) {
  Replayer r(options, prices, out);
  if (!r.setup(base, head, error)) return false;
  if (!r.open(options.logs, texts, error)) return false;
  return r.run(error);
}

}  // namespace

bool run_replay(const SideSpec& base, const SideSpec& head, const PriceTable* prices,
                const ReplayOptions& options, ReplayData* out, std::string* error) {
  return replay_impl(base, head, prices, options, nullptr, out, error);
}

bool run_replay_texts(const SideSpec& base, const SideSpec& head, const PriceTable* prices,
                      const std::vector<std::string>& texts, const ReplayOptions& options,
                      ReplayData* out, std::string* error) {
  return replay_impl(base, head, prices, options, &texts, out, error);
}

}  // namespace tollgate::dryrun
