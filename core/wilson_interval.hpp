// The Wilson score interval of a success rate: K successes in N trials, as `flywheel eval` reports it.
// Unlike p ± z·sqrt(p(1-p)/N) it stays inside [0, 1] and is not empty at 0/N or N/N.
#pragma once

#include <algorithm>
#include <cmath>

namespace flywheel {

struct RateInterval {
  double low = 0.0, high = 1.0;  // fractions, not percent
};

// z = 1.96: the 95% interval. No trials: the whole of [0, 1].
inline RateInterval wilsonInterval(int successes, int trials, double z = 1.959963984540054) {
  if (trials <= 0) return {};
  const double n = trials, p = successes / n, z2 = z * z;
  const double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const double half = z / (1 + z2 / n) * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n));
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

}  // namespace flywheel
