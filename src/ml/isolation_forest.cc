#include "riposte/ml/isolation_forest.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <numeric>
#include <random>
#include <utility>

namespace riposte::ml {

namespace {

constexpr double kEulerGamma = 0.5772156649015329;
constexpr uint32_t kMaxHeight = 16;  // sample ≤ 65536

// Uniform double in [0, 1) from 53 random bits (the same on every platform for a seed).
double uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// Uniform integer in [0, n).
uint64_t below(std::mt19937_64& rng, uint64_t n) {
  return static_cast<uint64_t>(uniform(rng) * static_cast<double>(n));
}

uint32_t heightFor(uint32_t sample) {
  uint32_t h = 0;
  while ((uint64_t{1} << h) < std::max<uint32_t>(sample, 2)) ++h;
  return h;
}

class TreeBuilder {
 public:
  TreeBuilder(const float* rows, size_t dim, uint32_t height, uint16_t* features, float* thresholds,
              float* leaves, std::mt19937_64& rng)
      : rows_(rows),
        dim_(dim),
        height_(height),
        features_(features),
        thresholds_(thresholds),
        leaves_(leaves),
        rng_(rng) {}

  void build(std::vector<uint32_t>& idx, const std::vector<uint16_t>& tree_features) {
    tree_features_ = tree_features;
    grow(idx.data(), idx.size(), 0, 0);
  }

 private:
  float at(uint32_t row, uint16_t f) const { return rows_[size_t{row} * dim_ + f]; }

  // Makes the sub-tree under `node` (at `depth`) one leaf of path length `value`: its inner
  // nodes pass everything to the left (threshold +inf) and every leaf slot below holds `value`.
  void fillLeaf(size_t node, uint32_t depth, float value) {
    size_t first = node;
    size_t last = node;
    for (uint32_t d = depth; d < height_; ++d) {
      for (size_t i = first; i <= last; ++i) {
        features_[i] = 0;
        thresholds_[i] = INFINITY;
      }
      first = 2 * first + 1;
      last = 2 * last + 2;
    }
    for (size_t i = first; i <= last; ++i) leaves_[i - inner()] = value;
  }

  size_t inner() const { return (size_t{1} << height_) - 1; }

  void grow(uint32_t* idx, size_t n, size_t node, uint32_t depth) {
    if (depth >= height_ || n <= 1) {
      fillLeaf(node, depth, static_cast<float>(depth + averagePathLength(static_cast<double>(n))));
      return;
    }
    // A random non-constant feature: draw without replacement until one varies.
    order_.assign(tree_features_.begin(), tree_features_.end());
    for (size_t k = 0; k < order_.size(); ++k) {
      const size_t j = k + below(rng_, order_.size() - k);
      std::swap(order_[k], order_[j]);
      const uint16_t f = order_[k];
      float lo = at(idx[0], f);
      float hi = lo;
      for (size_t i = 1; i < n; ++i) {
        const float v = at(idx[i], f);
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
      if (!(lo < hi)) continue;
      float thr = static_cast<float>(lo + uniform(rng_) * (static_cast<double>(hi) - lo));
      if (!(thr > lo)) thr = std::nextafter(lo, INFINITY);
      if (thr > hi) thr = hi;
      // Partition: x < thr to the left, x >= thr to the right.
      size_t left = 0;
      for (size_t i = 0; i < n; ++i) {
        if (at(idx[i], f) < thr) std::swap(idx[i], idx[left++]);
      }
      features_[node] = f;
      thresholds_[node] = thr;
      grow(idx, left, 2 * node + 1, depth + 1);
      grow(idx + left, n - left, 2 * node + 2, depth + 1);
      return;
    }
    // Every feature is constant here.
    fillLeaf(node, depth, static_cast<float>(depth + averagePathLength(static_cast<double>(n))));
  }

  const float* rows_;
  size_t dim_;
  uint32_t height_;
  uint16_t* features_;
  float* thresholds_;
  float* leaves_;
  std::mt19937_64& rng_;
  std::vector<uint16_t> tree_features_;
  std::vector<uint16_t> order_;
};

}  // namespace

double averagePathLength(double n) {
  if (n <= 1) return 0;
  if (n <= 2) return 1;
  return 2.0 * (std::log(n - 1.0) + kEulerGamma) - 2.0 * (n - 1.0) / n;
}

Result<IsolationForest> IsolationForest::train(const float* rows, size_t n, size_t dim,
                                               const IsolationForestParams& p) {
  if (n == 0) return Status::invalidArgument("isolation forest: no rows to train on");
  if (dim == 0 || dim > 65535) {
    return Status::invalidArgument("isolation forest: " + std::to_string(dim) +
                                   " features (1..65535 supported)");
  }
  if (p.trees == 0 || p.trees > 100'000) {
    return Status::invalidArgument("isolation forest: trees must be 1..100000");
  }
  if (p.sample < 2 || p.sample > (1u << kMaxHeight)) {
    return Status::invalidArgument("isolation forest: sample must be 2..65536");
  }
  if (p.max_features > dim) {
    return Status::invalidArgument("isolation forest: max features " +
                                   std::to_string(p.max_features) + " exceeds the " +
                                   std::to_string(dim) + " features");
  }
  for (size_t i = 0; i < n * dim; ++i) {
    if (!std::isfinite(rows[i])) {
      return Status::invalidArgument("isolation forest: row " + std::to_string(i / dim) +
                                     " feature " + std::to_string(i % dim) + " is not finite");
    }
  }
  IsolationForest f;
  f.dim_ = static_cast<uint32_t>(dim);
  f.trees_ = p.trees;
  f.sample_used_ = static_cast<uint32_t>(std::min<size_t>(p.sample, n));
  f.height_ = heightFor(f.sample_used_);
  f.norm_ = averagePathLength(f.sample_used_);
  const size_t inner = (size_t{1} << f.height_) - 1;
  const size_t slots = size_t{1} << f.height_;
  f.features_.assign(inner * f.trees_, 0);
  f.thresholds_.assign(inner * f.trees_, INFINITY);
  f.leaves_.assign(slots * f.trees_, 0);

  std::mt19937_64 rng(p.seed);
  std::vector<uint32_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0u);
  std::vector<uint32_t> idx(f.sample_used_);
  std::vector<uint16_t> all(dim);
  std::iota(all.begin(), all.end(), uint16_t{0});
  const size_t per_tree = p.max_features == 0 ? dim : p.max_features;
  std::vector<uint16_t> tree_features;
  for (uint32_t t = 0; t < f.trees_; ++t) {
    // Partial Fisher–Yates: the first sample_used entries are a uniform sample without
    // replacement (the permutation carries over between trees, which keeps that true).
    for (size_t k = 0; k < f.sample_used_; ++k) {
      const size_t j = k + below(rng, n - k);
      std::swap(perm[k], perm[j]);
      idx[k] = perm[k];
    }
    if (per_tree == dim) {
      tree_features = all;
    } else {
      for (size_t k = 0; k < per_tree; ++k) {
        const size_t j = k + below(rng, dim - k);
        std::swap(all[k], all[j]);
      }
      tree_features.assign(all.begin(), all.begin() + static_cast<ptrdiff_t>(per_tree));
    }
    TreeBuilder b(rows, dim, f.height_, f.features_.data() + t * inner,
                  f.thresholds_.data() + t * inner, f.leaves_.data() + t * slots, rng);
    b.build(idx, tree_features);
  }
  f.pack();
  return f;
}

Result<IsolationForest> IsolationForest::fromArrays(uint32_t dim, uint32_t trees, uint32_t height,
                                                    uint32_t sample_used,
                                                    std::vector<uint16_t> features,
                                                    std::vector<float> thresholds,
                                                    std::vector<float> leaves) {
  if (dim == 0 || trees == 0 || height == 0 || height > kMaxHeight || sample_used < 2) {
    return Status::parseError("forest shape out of range (dim " + std::to_string(dim) + ", trees " +
                              std::to_string(trees) + ", height " + std::to_string(height) +
                              ", sample " + std::to_string(sample_used) + ")");
  }
  const size_t inner = ((size_t{1} << height) - 1) * trees;
  const size_t slots = (size_t{1} << height) * trees;
  if (features.size() != inner || thresholds.size() != inner || leaves.size() != slots) {
    return Status::parseError("forest arrays do not match its shape");
  }
  for (uint16_t f : features) {
    if (f >= dim)
      return Status::parseError("forest node uses feature " + std::to_string(f) + " of " +
                                std::to_string(dim));
  }
  for (float v : leaves) {
    if (!std::isfinite(v) || v < 0) return Status::parseError("forest leaf path length invalid");
  }
  for (float v : thresholds) {
    if (std::isnan(v)) return Status::parseError("forest threshold is NaN");
  }
  IsolationForest f;
  f.dim_ = dim;
  f.trees_ = trees;
  f.height_ = height;
  f.sample_used_ = sample_used;
  f.norm_ = averagePathLength(sample_used);
  f.features_ = std::move(features);
  f.thresholds_ = std::move(thresholds);
  f.leaves_ = std::move(leaves);
  f.pack();
  return f;
}

double IsolationForest::meanPathLength(const float* x) const {
  return trees_ == 0 ? 0 : pathSum(x) / trees_;
}

void IsolationForest::pack() {
  nodes_.resize(features_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) nodes_[i] = {thresholds_[i], features_[i]};
  packBlocks();
}

double IsolationForest::pathSumScalar(const float* x) const {
  const size_t inner = (size_t{1} << height_) - 1;
  const size_t slots = size_t{1} << height_;
  double sum = 0;
  for (uint32_t t = 0; t < trees_; ++t) {
    const Node* nodes = nodes_.data() + t * inner;
    size_t i = 0;
    for (uint32_t d = 0; d < height_; ++d) {
      const Node n = nodes[i];
      i = 2 * i + 1 + static_cast<size_t>(x[n.feature] >= n.threshold);
    }
    sum += leaves_[t * slots + (i - inner)];
  }
  return sum;
}

double IsolationForest::score(const float* x) const {
  if (trees_ == 0) return 0;
  return std::exp2(pathSum(x) * (-1.0 / (norm_ * trees_)));
}

double IsolationForest::scoreScalar(const float* x) const {
  if (trees_ == 0) return 0;
  return std::exp2(pathSumScalar(x) * (-1.0 / (norm_ * trees_)));
}

namespace {

// The vector walk (see the header). A block holds three levels under one node in breadth-first
// order; the mask m has bit j set when lane j's comparison sends x right, and kExit[k][m] is the
// node (0..2^k-1) below the block that a walk of k levels reaches.
constexpr uint32_t kBlockLevels = 3;
constexpr uint32_t kMaxVectorHeight = 12;
constexpr uint32_t kMaxVectorDim = 16;

struct ExitTable {
  uint8_t next[kBlockLevels + 1][128];
};

constexpr ExitTable makeExitTable() {
  ExitTable t{};
  for (uint32_t k = 1; k <= kBlockLevels; ++k) {
    for (uint32_t m = 0; m < 128; ++m) {
      uint32_t j = 0;
      for (uint32_t l = 0; l < k; ++l) j = 2 * j + 1 + ((m >> j) & 1);
      t.next[k][m] = static_cast<uint8_t>(j - ((1u << k) - 1));
    }
  }
  return t;
}

constexpr ExitTable kExit = makeExitTable();

// Blocks of a tree before level group g (a group is three levels; group g has 8^g blocks).
constexpr uint32_t blocksBefore(uint32_t g) {
  uint32_t n = 0;
  uint32_t p = 1;
  for (uint32_t c = 0; c < g; ++c, p *= 8) n += p;
  return n;
}

constexpr uint32_t groupsFor(uint32_t height) { return (height + kBlockLevels - 1) / kBlockLevels; }

bool cpuHasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}

// One tree's blocks: 8 thresholds (32-byte aligned) and 8 feature bytes per block.
struct Tree {
  const float* thresholds;
  const uint64_t* features;
};

// The forest as the vector walk reads it.
struct BlockForest {
  const float* thresholds;
  const uint64_t* features;
  uint32_t per_tree;  // blocks per tree
  const float* leaves;
  uint32_t trees;
  Tree tree(uint32_t t) const {
    return {thresholds + size_t{8} * per_tree * t, features + size_t{per_tree} * t};
  }
};

// One level group G of a tree of height H: the block under node s of level 3G; returns the node
// of level 3G+k the walk reaches. x's features are lanes: lo holds 0..7, hi 8..15 (when kWide).
template <uint32_t H, uint32_t G, bool kWide>
__attribute__((target("avx2"))) inline uint32_t walkGroup(const Tree& tree, uint32_t s, __m256 lo,
                                                          __m256 hi) {
  constexpr uint32_t k = std::min(kBlockLevels, H - kBlockLevels * G);
  const size_t b = blocksBefore(G) + s;
  const __m256i f = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<int64_t>(tree.features[b])));
  __m256 v = _mm256_permutevar8x32_ps(lo, f);
  if constexpr (kWide) {
    // Features 8..15 come from hi; bit 3 of the index, shifted to the sign, picks them.
    v = _mm256_blendv_ps(v, _mm256_permutevar8x32_ps(hi, f),
                         _mm256_castsi256_ps(_mm256_slli_epi32(f, 28)));
  }
  const auto m = static_cast<uint32_t>(
      _mm256_movemask_ps(_mm256_cmp_ps(v, _mm256_load_ps(tree.thresholds + 8 * b), _CMP_GE_OQ)));
  return (s << k) + kExit.next[k][m & 127];
}

template <uint32_t H, bool kWide, uint32_t... G>
__attribute__((target("avx2"))) inline uint32_t walkGroups(const Tree& tree, __m256 lo, __m256 hi,
                                                           std::integer_sequence<uint32_t, G...>) {
  uint32_t s = 0;
  ((s = walkGroup<H, G, kWide>(tree, s, lo, hi)), ...);
  return s;
}

// The leaf slot (0..2^H-1) x reaches in one tree.
template <uint32_t H, bool kWide>
__attribute__((target("avx2"))) inline uint32_t walkBlocks(const Tree& tree, __m256 lo, __m256 hi) {
  return walkGroups<H, kWide>(tree, lo, hi, std::make_integer_sequence<uint32_t, groupsFor(H)>());
}

// Copies rows of `dim` features into rows of kStride floats (the rest zero).
inline void stageRows(const float* rows, size_t n, size_t dim, size_t stride, float* out) {
  for (size_t k = 0; k < n; ++k) {
    std::memcpy(out + k * stride, rows + k * dim, dim * sizeof(float));
    std::fill(out + k * stride + dim, out + (k + 1) * stride, 0.0f);
  }
}

template <uint32_t H, bool kWide>
__attribute__((target("avx2"))) double pathSumBlocks(const BlockForest& forest, const float* x,
                                                     size_t dim) {
  constexpr size_t kStride = kWide ? 16 : 8;
  alignas(32) float staged[kStride];
  stageRows(x, 1, dim, kStride, staged);
  const __m256 lo = _mm256_load_ps(staged);
  const __m256 hi = kWide ? _mm256_load_ps(staged + 8) : lo;
  double sum = 0;
  for (uint32_t t = 0; t < forest.trees; ++t) {
    sum += forest.leaves[(size_t{t} << H) + walkBlocks<H, kWide>(forest.tree(t), lo, hi)];
  }
  return sum;
}

// Rows go in blocks of kRows: each tree's blocks (a few KiB) stay in L1 while every row of the
// block walks it; the walks of different rows are independent, so they overlap.
template <uint32_t H, bool kWide>
__attribute__((target("avx2"))) void scoreBlocks(const BlockForest& forest, const float* rows,
                                                 size_t n, size_t dim, double scale, double* out) {
  constexpr size_t kStride = kWide ? 16 : 8;
  constexpr size_t kRows = 256;
  alignas(32) float staged[kRows * kStride];
  double sum[kRows];
  for (size_t r = 0; r < n; r += kRows) {
    const size_t b = std::min(kRows, n - r);
    const float* x = rows + r * dim;
    if (dim != kStride) {
      stageRows(x, b, dim, kStride, staged);
      x = staged;
    }
    std::fill(sum, sum + b, 0.0);
    for (uint32_t t = 0; t < forest.trees; ++t) {
      const Tree tree = forest.tree(t);
      const float* leaf = forest.leaves + (size_t{t} << H);
      for (size_t k = 0; k < b; ++k) {
        const float* xk = x + k * kStride;
        const __m256 lo = _mm256_loadu_ps(xk);
        const __m256 hi = kWide ? _mm256_loadu_ps(xk + 8) : lo;
        sum[k] += leaf[walkBlocks<H, kWide>(tree, lo, hi)];
      }
    }
    for (size_t k = 0; k < b; ++k) out[r + k] = std::exp2(sum[k] * scale);
  }
}

using PathSumFn = double (*)(const BlockForest&, const float*, size_t);
using ScoreFn = void (*)(const BlockForest&, const float*, size_t, size_t, double, double*);

// Entry h-1 serves height h.
template <bool kWide, size_t... I>
constexpr std::array<PathSumFn, sizeof...(I)> pathSumTable(std::index_sequence<I...>) {
  return {&pathSumBlocks<I + 1, kWide>...};
}
template <bool kWide, size_t... I>
constexpr std::array<ScoreFn, sizeof...(I)> scoreTable(std::index_sequence<I...>) {
  return {&scoreBlocks<I + 1, kWide>...};
}

constexpr auto kPathSumNarrow = pathSumTable<false>(std::make_index_sequence<kMaxVectorHeight>());
constexpr auto kPathSumWide = pathSumTable<true>(std::make_index_sequence<kMaxVectorHeight>());
constexpr auto kScoreNarrow = scoreTable<false>(std::make_index_sequence<kMaxVectorHeight>());
constexpr auto kScoreWide = scoreTable<true>(std::make_index_sequence<kMaxVectorHeight>());

}  // namespace

void IsolationForest::packBlocks() {
  block_thresholds_.clear();
  block_features_.clear();
  blocks_per_tree_ = 0;
  if (!cpuHasAvx2() || dim_ > kMaxVectorDim || height_ == 0 || height_ > kMaxVectorHeight) return;
  const uint32_t groups = groupsFor(height_);
  blocks_per_tree_ = blocksBefore(groups);
  const size_t inner = (size_t{1} << height_) - 1;
  BlockThresholds pad;
  std::fill(std::begin(pad.lane), std::end(pad.lane), INFINITY);
  block_thresholds_.assign(size_t{blocks_per_tree_} * trees_, pad);
  block_features_.assign(size_t{blocks_per_tree_} * trees_, 0);
  for (uint32_t t = 0; t < trees_; ++t) {
    for (uint32_t g = 0; g < groups; ++g) {
      const uint32_t depth = kBlockLevels * g;
      const uint32_t k = std::min(kBlockLevels, height_ - depth);
      for (uint32_t s = 0; s < (1u << depth); ++s) {
        const size_t b = size_t{t} * blocks_per_tree_ + blocksBefore(g) + s;
        uint32_t lane = 0;
        for (uint32_t l = 0; l < k; ++l) {
          for (uint32_t p = 0; p < (1u << l); ++p, ++lane) {
            // Node p of level depth+l under node s of level depth, in the complete tree.
            const size_t node = t * inner + ((size_t{1} << (depth + l)) - 1) + (size_t{s} << l) + p;
            block_thresholds_[b].lane[lane] = thresholds_[node];
            block_features_[b] |= uint64_t{features_[node]} << (8 * lane);
          }
        }
      }
    }
  }
}

double IsolationForest::pathSum(const float* x) const {
  if (block_features_.empty()) return pathSumScalar(x);
  const BlockForest forest{block_thresholds_[0].lane, block_features_.data(), blocks_per_tree_,
                           leaves_.data(), trees_};
  return (dim_ <= 8 ? kPathSumNarrow : kPathSumWide)[height_ - 1](forest, x, dim_);
}

namespace {

// Walks kLanes rows (x, stride dim) through one tree of height H; adds their leaf values.
template <uint32_t H, size_t kLanes, typename Node>
inline void walkTree(const Node* nodes, const float* leaf, const float* x, size_t dim,
                     double* sum) {
  uint32_t i[kLanes] = {};
#pragma GCC unroll 16
  for (uint32_t d = 0; d < H; ++d) {
#pragma GCC unroll 16
    for (size_t l = 0; l < kLanes; ++l) {
      const Node nd = nodes[i[l]];
      i[l] = 2 * i[l] + 1 + static_cast<uint32_t>(x[l * dim + nd.feature] >= nd.threshold);
    }
  }
#pragma GCC unroll 16
  for (size_t l = 0; l < kLanes; ++l) sum[l] += leaf[i[l]];
}

template <size_t kLanes, typename Node>
inline void walkTreeAnyHeight(uint32_t h, const Node* nodes, const float* leaf, const float* x,
                              size_t dim, double* sum) {
  uint32_t i[kLanes] = {};
  for (uint32_t d = 0; d < h; ++d) {
#pragma GCC unroll 16
    for (size_t l = 0; l < kLanes; ++l) {
      const Node nd = nodes[i[l]];
      i[l] = 2 * i[l] + 1 + static_cast<uint32_t>(x[l * dim + nd.feature] >= nd.threshold);
    }
  }
#pragma GCC unroll 16
  for (size_t l = 0; l < kLanes; ++l) sum[l] += leaf[i[l]];
}

}  // namespace

void IsolationForest::scoreBatch(const float* rows, size_t n, double* out) const {
  if (trees_ == 0) {
    std::fill(out, out + n, 0.0);
    return;
  }
  if (!block_features_.empty()) {
    const BlockForest forest{block_thresholds_[0].lane, block_features_.data(), blocks_per_tree_,
                             leaves_.data(), trees_};
    (dim_ <= 8 ? kScoreNarrow : kScoreWide)[height_ - 1](forest, rows, n, dim_,
                                                         -1.0 / (norm_ * trees_), out);
    return;
  }
  // Rows go in blocks small enough to stay in L1 with one tree (a few KiB); each tree is then
  // read once per block, and within a block groups of kLanes rows walk the tree together: their
  // walks are independent, so the processor overlaps them instead of waiting on one chain of
  // dependent loads. The usual heights (sample 256 → 8) have a fully unrolled walk.
  constexpr size_t kLanes = 16;
  constexpr size_t kBlock = 256;
  const size_t inner = (size_t{1} << height_) - 1;
  const size_t slots = size_t{1} << height_;
  const double scale = -1.0 / (norm_ * trees_);
  double sum[kBlock];
  size_t r = 0;
  for (; r + kLanes <= n;) {
    const size_t b = std::min(kBlock, (n - r) / kLanes * kLanes);
    std::fill(sum, sum + b, 0.0);
    for (uint32_t t = 0; t < trees_; ++t) {
      const Node* nodes = nodes_.data() + t * inner;
      const float* leaf = leaves_.data() + t * slots - inner;
      for (size_t g = 0; g < b; g += kLanes) {
        const float* x = rows + (r + g) * dim_;
        switch (height_) {
          case 6: walkTree<6, kLanes>(nodes, leaf, x, dim_, sum + g); break;
          case 7: walkTree<7, kLanes>(nodes, leaf, x, dim_, sum + g); break;
          case 8: walkTree<8, kLanes>(nodes, leaf, x, dim_, sum + g); break;
          case 9: walkTree<9, kLanes>(nodes, leaf, x, dim_, sum + g); break;
          default: walkTreeAnyHeight<kLanes>(height_, nodes, leaf, x, dim_, sum + g); break;
        }
      }
    }
    for (size_t l = 0; l < b; ++l) out[r + l] = std::exp2(sum[l] * scale);
    r += b;
  }
  for (; r < n; ++r) out[r] = scoreScalar(rows + r * dim_);
}

}  // namespace riposte::ml
