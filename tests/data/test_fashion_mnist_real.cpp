// The real Fashion-MNIST files from Debian's dataset-fashion-mnist package
// (installed by scripts/install-deps.sh), read through the IDX reader and
// one loader pass.
#include <filesystem>

#include "data/idx.h"
#include "data/loader.h"
#include "tests/data/fixtures.h"

namespace strata::data {
namespace {

bool real_files_present() {
  return std::filesystem::exists(std::string(kDebianFashionMnistRoot) + "/train-images-idx3-ubyte.gz");
}

TEST(FashionMnistReal, DebianFilesReadWithTheExpectedCountsAndStatistics) {
  if (!real_files_present()) {
    GTEST_SKIP() << kDebianFashionMnistRoot << " not found: install Debian's dataset-fashion-mnist "
                 << "(scripts/install-deps.sh does)";
  }
  const Dataset train = read_fashion_mnist(kDebianFashionMnistRoot, Split::train);
  const Dataset test = read_fashion_mnist(kDebianFashionMnistRoot, Split::test);
  ASSERT_EQ(train.images.shape(), (Shape{60000, 1, 28, 28}));
  ASSERT_EQ(test.images.shape(), (Shape{10000, 1, 28, 28}));
  // Balanced classes: 6000 per class in train, 1000 in test.
  for (const auto& [d, per_class] : {std::pair{&train, 6000}, std::pair{&test, 1000}}) {
    std::vector<int64_t> counts(10);
    for (int64_t y : d->labels.to_vector<int64_t>()) ++counts[size_t(y)];
    EXPECT_EQ(counts, std::vector<int64_t>(10, per_class)) << d->name;
  }
  // The statistics the config defaults normalise with.
  double sum = 0, sq = 0;
  const uint8_t* px = train.images.data<uint8_t>();
  for (int64_t i = 0; i < train.images.numel(); ++i) {
    sum += px[i] / 255.0;
    sq += (px[i] / 255.0) * (px[i] / 255.0);
  }
  const double mean = sum / double(train.images.numel());
  EXPECT_NEAR(mean, 0.2860, 5e-4);
  EXPECT_NEAR(std::sqrt(sq / double(train.images.numel()) - mean * mean), 0.3530, 5e-4);

  LoaderOptions o;
  o.batch_size = 1000;
  o.augment.mean = {0.2860};
  o.augment.stddev = {0.3530};
  o.augment.flip = true;
  o.augment.padding = 2;
  o.augment.random_crop = true;
  Loader loader(test, o);
  int64_t seen = 0;
  for (int64_t b = 0; b < loader.batches_per_epoch(); ++b) seen += loader.next().labels.numel();
  EXPECT_EQ(seen, 10000);
}

}  // namespace
}  // namespace strata::data
