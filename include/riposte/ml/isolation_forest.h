// IsolationForest: the anomaly detector of Liu, Ting and Zhou (2008), "Isolation Forest".
//
// Training builds `trees` isolation trees, each on a sub-sample of `sample` rows drawn without
// replacement, on a random subset of `max_features` features (all by default). A node splits on
// a random non-constant feature at a threshold drawn uniformly between that feature's minimum and
// maximum in the node; growth stops at height ceil(log2(sample)), at one row, or when every
// feature is constant. The path length of x in a tree is the depth of the leaf it reaches plus
// c(n) for the n training rows left in that leaf; the score is
//     s(x, ψ) = 2^(-E[h(x)] / c(ψ)),   c(n) = 2 H(n-1) - 2 (n-1) / n,   H(i) ≈ ln(i) + γ,
// in [0, 1]: close to 1 for anomalies, well under 0.5 for normal points. The same seed gives
// the same forest.
//
// Scoring layout: each tree is stored as a complete binary tree of fixed height D in flat arrays
// (split feature and threshold per inner node, path length per leaf slot; a leaf above height D
// fills its sub-tree so every walk takes exactly D steps), so a walk is D branch-free steps and
// scoring allocates nothing. scoreBatch() walks several vectors through each tree at once.
// On processors with AVX2, forests of up to 16 features and height up to 12 are also stored as
// blocks of three levels (seven nodes, one 8-lane vector each): a walk then decides three levels
// per step with one permute of the vector's features, one comparison of all seven thresholds and
// a table look-up of the exit, instead of three dependent loads. Both walks give the same score.
//
// Thread safety: a trained forest is immutable; score from any number of threads.
#pragma once

#include <cstdint>
#include <vector>

#include "riposte/core/status.h"

namespace riposte::ml {

struct IsolationForestParams {
  uint32_t trees = 100;
  uint32_t sample = 256;      // rows per tree (capped at the number of rows)
  uint32_t max_features = 0;  // features per tree; 0 = all
  uint64_t seed = 1;
};

// c(n): the average path length of an unsuccessful search in a binary search tree of n keys,
// used to normalise path lengths (0 for n <= 1, 1 for n = 2).
double averagePathLength(double n);

class IsolationForest {
 public:
  IsolationForest() = default;

  // Trains on `rows` (row-major, n × dim). Rows must be finite.
  static Result<IsolationForest> train(const float* rows, size_t n, size_t dim,
                                       const IsolationForestParams& params);

  // Builds a forest from stored arrays (model files), checking every size and index.
  static Result<IsolationForest> fromArrays(uint32_t dim, uint32_t trees, uint32_t height,
                                            uint32_t sample_used, std::vector<uint16_t> features,
                                            std::vector<float> thresholds,
                                            std::vector<float> leaves);

  // Anomaly score in [0, 1] of one vector of dim() values.
  double score(const float* x) const;
  // Mean path length E[h(x)] over the trees.
  double meanPathLength(const float* x) const;
  // Scores n vectors (row-major); out has n entries.
  void scoreBatch(const float* rows, size_t n, double* out) const;
  // The same score, always by the node-by-node walk (the reference for the vector walk).
  double scoreScalar(const float* x) const;
  // Whether score() and scoreBatch() use the three-levels-per-step vector walk here.
  bool vectorWalk() const { return !block_features_.empty(); }

  uint32_t dim() const { return dim_; }
  uint32_t trees() const { return trees_; }
  uint32_t height() const { return height_; }
  uint32_t sampleUsed() const { return sample_used_; }
  bool empty() const { return trees_ == 0; }

  // Flat arrays: trees × (2^height - 1) inner nodes, trees × 2^height leaf slots.
  const std::vector<uint16_t>& features() const { return features_; }
  const std::vector<float>& thresholds() const { return thresholds_; }
  const std::vector<float>& leaves() const { return leaves_; }

 private:
  // An inner node as the walk reads it: both fields in one 8-byte load.
  struct Node {
    float threshold;
    uint32_t feature;
  };

  // Three levels of one tree under one node, as the vector walk reads them: lane j holds node j
  // of the block in breadth-first order (lane 7 and lanes past the tree's height are padding).
  // Thresholds are one aligned vector; the lanes' features are eight bytes of a uint64_t.
  struct alignas(32) BlockThresholds {
    float lane[8];
  };

  double pathSum(const float* x) const;
  double pathSumScalar(const float* x) const;
  void pack();
  void packBlocks();

  uint32_t dim_ = 0;
  uint32_t trees_ = 0;
  uint32_t height_ = 0;
  uint32_t sample_used_ = 0;
  double norm_ = 1;  // c(sample_used)
  std::vector<uint16_t> features_;
  std::vector<float> thresholds_;
  std::vector<float> leaves_;
  std::vector<Node> nodes_;  // features_ and thresholds_ interleaved, for scoring
  // Per tree: the blocks of each group of three levels, in order (empty: scalar walk only).
  std::vector<BlockThresholds> block_thresholds_;
  std::vector<uint64_t> block_features_;
  uint32_t blocks_per_tree_ = 0;
};

}  // namespace riposte::ml
