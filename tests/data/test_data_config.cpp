// The `data:` config section: defaults per dataset, every key, and errors
// that name file:line and the key.
#include "data/data_config.h"

#include "data/idx.h"
#include "tests/data/fixtures.h"

namespace strata::data {
namespace {

using namespace testing;

DataConfig read(const std::string& yaml) {
  config::Document doc = config::Document::parse(yaml, "run.yaml");
  config::Section data = config::Section(doc).section("data");
  return read_data_config(data);
}

TEST(DataConfig, FashionMnistDefaultsToDebiansFiles) {
  const DataConfig c = read("data: {}\n");
  EXPECT_EQ(c.dataset, "fashion_mnist");
  EXPECT_EQ(c.root, "/usr/share/datasets/fashion-mnist");
  EXPECT_EQ(c.augment.mean, (std::vector<double>{0.2860}));
  EXPECT_EQ(c.augment.stddev, (std::vector<double>{0.3530}));
  EXPECT_EQ(c.augment.padding, 0);
  EXPECT_FALSE(c.augment.flip);
  EXPECT_EQ(c.batch_size, 128);
}

TEST(DataConfig, EveryKeyIsRead) {
  const DataConfig c = read(R"(data:
  dataset: cifar100
  root: /tmp/c100
  label: coarse
  batch_size: 64
  eval_batch_size: 256
  workers: 3
  prefetch: 6
  shuffle: false
  drop_last: false
  crop: 32
  padding: 2
  flip: false
  mean: [0.5, 0.5, 0.5]
  std: [0.25, 0.25, 0.25]
  mixup_alpha: 0.8
  cutmix_alpha: 1.0
  mix_prob: 0.5
  label_smoothing: 0.1
)");
  EXPECT_EQ(c.dataset, "cifar100");
  EXPECT_EQ(c.root, "/tmp/c100");
  EXPECT_EQ(c.label, "coarse");
  EXPECT_EQ(c.batch_size, 64);
  EXPECT_EQ(c.workers, 3);
  EXPECT_EQ(c.augment.crop, 32);
  EXPECT_EQ(c.augment.padding, 2);
  EXPECT_EQ(c.augment.stddev, (std::vector<double>{0.25, 0.25, 0.25}));
  EXPECT_DOUBLE_EQ(c.augment.cutmix_alpha, 1.0);
  const LoaderOptions train = train_loader_options(c, 17, 1, 2);
  EXPECT_EQ(train.seed, 17u);
  EXPECT_EQ(train.rank, 1);
  EXPECT_TRUE(train.augment.random_crop);
  EXPECT_EQ(train.prefetch, 6);
  const LoaderOptions eval = eval_loader_options(c);
  EXPECT_EQ(eval.batch_size, 256);
  EXPECT_FALSE(eval.shuffle);
  EXPECT_FALSE(eval.drop_last);
  EXPECT_FALSE(eval.augment.random_crop);
  EXPECT_FALSE(eval.augment.mixing());
  EXPECT_EQ(eval.augment.label_smoothing, 0.0);
}

TEST(DataConfig, CifarDefaults) {
  const DataConfig c = read("data:\n  dataset: cifar10\n");
  EXPECT_EQ(c.root, "data/cifar-10-batches-bin");
  EXPECT_EQ(c.augment.padding, 4);
  EXPECT_TRUE(c.augment.flip);
  EXPECT_EQ(c.augment.mean.size(), 3u);
  EXPECT_EQ(eval_loader_options(c).batch_size, 128);
}

TEST(DataConfig, ErrorsNameFileLineAndKey) {
  expect_error([] { read("data:\n  dataset: cifar10\n  bach_size: 3\n"); },
               {"run.yaml:3:3", "data.bach_size", "unknown key", "did you mean 'batch_size'"});
  expect_error([] { read("data:\n  batch_size: many\n"); }, {"run.yaml:2:3", "data.batch_size", "expected an integer"});
  expect_error([] { read("data:\n  batch_size: 0\n"); }, {"run.yaml:2:3", "must be > 0"});
  expect_error([] { read("data:\n  dataset: cifar11\n"); }, {"run.yaml:2:3", "data.dataset", "did you mean 'cifar10'"});
  expect_error([] { read("data:\n  dataset: cifar10\n  label: coarse\n"); },
               {"run.yaml:3:3", "data.label", "only applies to dataset cifar100"});
  expect_error([] { read("data:\n  dataset: cifar100\n  label: medium\n"); }, {"run.yaml:3:3", "[fine, coarse]"});
  expect_error([] { read("data:\n  dataset: cifar10\n  mean: [0.5]\n"); },
               {"run.yaml:3:3", "data.mean", "expected 3 values (one per channel), got 1"});
  expect_error([] { read("data:\n  std: [0]\n"); }, {"run.yaml:2:3", "data.std", "must be > 0"});
  expect_error([] { read("data:\n  mix_prob: 1.5\n"); }, {"run.yaml:2:3", "data.mix_prob", "[0, 1]"});
  expect_error([] { read("data:\n  label_smoothing: 1\n"); }, {"data.label_smoothing", "[0, 1)"});
  expect_error([] { read("data:\n  dataset: cifar10\n  crop: 48\n"); },
               {"run.yaml:3:3", "data.crop", "does not fit a 32x32 image padded by 4"});
  expect_error([] { read("data:\n  dataset: image_folder\n"); }, {"data.root", "required for dataset image_folder"});
  expect_error([] { read("data:\n  dataset: mnist\n  image_size: 32\n"); }, {"data.image_size", "image_folder"});
  expect_error([] { read("data:\n  dataset: image_folder\n  root: x\n  channels: 2\n"); },
               {"data.channels", "must be 1 or 3"});
}

TEST(DataConfig, LoadsTheConfiguredDataset) {
  TempDir dir;
  write_gzip(dir / "train-images-idx3-ubyte.gz", idx_images(9, 28, 28));
  write_gzip(dir / "train-labels-idx1-ubyte.gz", idx_labels(9));
  write_bytes(dir / "t10k-images-idx3-ubyte", idx_images(4, 28, 28));
  write_bytes(dir / "t10k-labels-idx1-ubyte", idx_labels(4));
  const DataConfig c = read(fmt::format("data:\n  dataset: mnist\n  root: {}\n  batch_size: 4\n", dir.str()));
  const Dataset train = load_dataset(c, Split::train), test = load_dataset(c, Split::test);
  EXPECT_EQ(train.size(), 9);
  EXPECT_EQ(test.size(), 4);
  Loader loader(train, train_loader_options(c, 1));
  EXPECT_EQ(loader.batches_per_epoch(), 2);  // drop_last by default when training
  EXPECT_EQ(Loader(test, eval_loader_options(c)).batches_per_epoch(), 1);

  const DataConfig folder = read(fmt::format("data:\n  dataset: image_folder\n  root: {}\n", dir.str()));
  expect_error([&] { load_dataset(folder, Split::test); }, {dir.str(), "no test split", "/val"});
  expect_error([&] { load_dataset(folder, Split::train); }, {dir / "train", "directory not found"});
}

}  // namespace
}  // namespace strata::data
