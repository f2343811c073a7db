#include "monitor/cli/correlation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/measurement.h"

namespace ctmon::cli {

std::vector<double> average_ranks(const std::vector<double>& values) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && values[order[j + 1]] == values[order[i]]) ++j;
    const double rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

std::optional<double> spearman(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = std::min(x.size(), y.size());
  if (n < 2) return std::nullopt;
  const std::vector<double> rx = average_ranks(x), ry = average_ranks(y);
  const double mean = (static_cast<double>(n) + 1.0) / 2.0;  // the mean of average ranks is always this
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double dx = rx[i] - mean, dy = ry[i] - mean;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx == 0 || syy == 0) return std::nullopt;
  return sxy / std::sqrt(sxx * syy);
}

LaggedCorrelation lagged_spearman(const IntervalSeries& s, std::size_t counter_column, std::size_t target_column,
                                  std::size_t lag) {
  LaggedCorrelation out;
  out.lag = lag;
  const std::vector<double>& counter = s.columns[counter_column];
  const std::vector<double>& target = s.columns[target_column];
  std::vector<double> x, y;
  for (std::size_t t = lag; t < s.rows(); ++t) {
    if (s.segment[t - lag] != s.segment[t]) continue;
    const double c = counter[t - lag], j = target[t];
    if (std::isnan(c) || std::isnan(j)) continue;
    x.push_back(c);
    y.push_back(j);
  }
  out.pairs = x.size();
  out.rho = spearman(x, y);
  return out;
}

std::size_t IntervalSeriesBuilder::column_of(const std::string& name) {
  auto [it, inserted] = column_by_name_.try_emplace(name, std::nullopt);
  if (inserted && keep_(name)) {
    it->second = series_.names.size();
    series_.names.push_back(name);
    series_.columns.emplace_back(series_.rows(), std::numeric_limits<double>::quiet_NaN());
    mean_.push_back(counter_meaning(name) == CounterMeaning::mean ? 1 : 0);
  }
  return it->second.value_or(std::numeric_limits<std::size_t>::max());
}

bool IntervalSeriesBuilder::add(const CounterCatalog& catalog, const Sample& sample, bool bytes_stored) {
  by_column_.mono_ns = sample.mono_ns;
  by_column_.wall_ns = sample.wall_ns;
  by_column_.counters.assign(series_.names.size(), CounterTotals{});
  for (std::size_t id = 0; id < sample.counters.size() && id < catalog.size(); ++id) {
    const std::size_t c = column_of(catalog.name(static_cast<CounterId>(id)));
    if (c >= series_.names.size()) continue;
    by_column_.counters.resize(series_.names.size());  // a column added just now
    // Without stored bytes a mean counter's sums are not there: absent, so no value is taken
    // from or across this sample.
    if (bytes_stored || mean_[c] == 0) by_column_.counters[c] = sample.counters[id];
  }
  const RateFrame& frame = rates_.update(by_column_, mean_);
  if (frame.continuity == StepContinuity::continuous && series_.rows() >= max_rows_) return false;
  if (frame.continuity != StepContinuity::continuous) {
    if (segment_has_rows_) {
      ++segment_;
      segment_has_rows_ = false;
    }
    return true;
  }
  for (std::size_t c = 0; c < series_.columns.size(); ++c)
    series_.columns[c].push_back(c < frame.valid.size() && frame.valid[c] != 0 ? frame.pps[c]
                                                                                : std::numeric_limits<double>::quiet_NaN());
  series_.segment.push_back(segment_);
  segment_has_rows_ = true;
  return true;
}

EpisodeTiming episode_timing(const std::vector<EvidencePeak>& evidence) {
  EpisodeTiming t;
  for (const EvidencePeak& e : evidence) {
    auto& first = parse_probe_counter_name(e.name) ? t.first_probe_peak_ns : t.first_counter_peak_ns;
    if (!first || e.peak_wall_ns < *first) first = e.peak_wall_ns;
  }
  if (t.first_probe_peak_ns && t.first_counter_peak_ns) t.moved = Moved::both;
  else if (t.first_probe_peak_ns) t.moved = Moved::probes_only;
  else if (t.first_counter_peak_ns) t.moved = Moved::counters_only;
  return t;
}

EpisodeSplit split_episodes(const std::vector<EpisodeInput>& episodes) {
  EpisodeSplit s;
  for (const EpisodeInput& e : episodes) {
    ++s.total;
    ++s.where[e.where.empty() ? "unknown" : e.where];
    const EpisodeTiming t = episode_timing(e.evidence);
    switch (t.moved) {
      case Moved::counters_only: ++s.counters_only; break;
      case Moved::probes_only: ++s.probes_only; break;
      case Moved::nothing: break;
      case Moved::both: {
        ++s.both;
        const std::int64_t probe = *t.first_probe_peak_ns, counter = *t.first_counter_peak_ns;
        if (probe < counter) ++s.probes_first;
        else if (counter < probe) ++s.counters_first;
        else ++s.together;
        s.lags_s.push_back(std::abs(static_cast<double>(probe - counter)) / 1e9);
        break;
      }
    }
  }
  std::sort(s.lags_s.begin(), s.lags_s.end());
  return s;
}

std::optional<double> EpisodeSplit::median_lag_s() const {
  if (lags_s.empty()) return std::nullopt;
  const std::size_t n = lags_s.size();
  return n % 2 == 1 ? lags_s[n / 2] : (lags_s[n / 2 - 1] + lags_s[n / 2]) / 2.0;
}

std::vector<Predictor> best_predictors(const IntervalSeries& s, std::size_t target_column,
                                       const std::vector<std::size_t>& counter_columns, std::size_t top) {
  std::vector<Predictor> all;
  for (std::size_t c : counter_columns) {
    if (c == target_column) continue;
    Predictor p;
    p.counter = s.names[c];
    for (std::size_t lag = 0; lag <= kMaxLag; ++lag) {
      const LaggedCorrelation l = lagged_spearman(s, c, target_column, lag);
      const bool enough = l.pairs >= kMinPairs && l.rho.has_value();
      const bool better = enough ? !p.enough_pairs || std::abs(*l.rho) > std::abs(*p.best.rho)
                                 : !p.enough_pairs && l.pairs > p.best.pairs;
      if (lag == 0 || better) {
        p.best = l;
        p.enough_pairs = enough;
      }
    }
    all.push_back(std::move(p));
  }
  std::stable_sort(all.begin(), all.end(), [](const Predictor& a, const Predictor& b) {
    if (a.enough_pairs != b.enough_pairs) return a.enough_pairs;
    if (a.enough_pairs) return std::abs(*a.best.rho) > std::abs(*b.best.rho);
    return a.best.pairs > b.best.pairs;
  });
  if (all.size() > top) all.resize(top);
  return all;
}

}  // namespace ctmon::cli
