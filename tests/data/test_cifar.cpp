// CIFAR-10/100 binary readers on fixture files in the real record format
// (fewer records per file than the real 10000), and the errors for missing,
// truncated and corrupted files, each naming the file.
#include "data/cifar.h"

#include "tests/data/fixtures.h"

namespace strata::data {
namespace {

using namespace testing;

// Writes data_batch_1..5.bin with the given record counts and test_batch.bin.
void write_cifar10(const TempDir& dir, const std::vector<int64_t>& train_counts, int64_t test_count) {
  int64_t first = 0;
  for (size_t f = 0; f < train_counts.size(); ++f) {
    write_bytes(dir / fmt::format("data_batch_{}.bin", f + 1), cifar_records(first, train_counts[f], {10}));
    first += train_counts[f];
  }
  write_bytes(dir / "test_batch.bin", cifar_records(1000, test_count, {10}));
}

void expect_fixture_records(const Dataset& d, int64_t first, int64_t count, int64_t label_mod) {
  ASSERT_EQ(d.images.shape(), (Shape{count, 3, 32, 32}));
  ASSERT_EQ(d.labels.shape(), (Shape{count}));
  const uint8_t* px = d.images.data<uint8_t>();
  for (int64_t i = 0; i < count; ++i) {
    EXPECT_EQ(d.labels.data<int64_t>()[i], (first + i) % label_mod) << "record " << i;
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < 32; ++y)
        for (int64_t x = 0; x < 32; ++x) {
          ASSERT_EQ(px[((i * 3 + c) * 32 + y) * 32 + x], fixture_pixel(first + i, c, y, x))
              << "record " << i << " c " << c << " y " << y << " x " << x;
        }
  }
}

TEST(Cifar10, ReadsEveryTrainFileInOrderAndTheTestFile) {
  TempDir dir;
  write_cifar10(dir, {3, 2, 1, 4, 2}, 5);
  const Dataset train = read_cifar10(dir.str(), Split::train);
  expect_fixture_records(train, 0, 12, 10);
  EXPECT_EQ(train.num_classes, 10);
  EXPECT_EQ(train.class_names.front(), "airplane");
  EXPECT_EQ(train.class_names.back(), "truck");
  EXPECT_NO_THROW(train.validate());
  const Dataset test = read_cifar10(dir.str(), Split::test);
  expect_fixture_records(test, 1000, 5, 10);
  EXPECT_EQ(test.name, "cifar10/test");
}

TEST(Cifar10, MissingFileIsNamed) {
  TempDir dir;
  write_cifar10(dir, {1, 1, 1, 1, 1}, 1);
  fs::remove(dir / "data_batch_3.bin");
  expect_error([&] { read_cifar10(dir.str(), Split::train); }, {dir / "data_batch_3.bin", "file not found"});
  expect_error([&] { read_cifar10(dir / "nowhere", Split::test); },
               {dir / "nowhere", "directory not found", "test_batch.bin"});
}

TEST(Cifar10, TruncatedFileIsNamedWithSizes) {
  TempDir dir;
  write_cifar10(dir, {2, 2, 2, 2, 2}, 2);
  truncate_file(dir / "data_batch_4.bin", 100);
  expect_error([&] { read_cifar10(dir.str(), Split::train); },
               {dir / "data_batch_4.bin", "size 6046 bytes", "3073-byte records", "1 records and 2973 bytes left over",
                "30730000 bytes", "truncated"});
  write_bytes(dir / "test_batch.bin", {});
  expect_error([&] { read_cifar10(dir.str(), Split::test); }, {dir / "test_batch.bin", "size 0 bytes"});
}

TEST(Cifar10, LabelOutOfRangeIsNamed) {
  TempDir dir;
  write_cifar10(dir, {1, 1, 1, 1, 1}, 3);
  std::vector<uint8_t> bytes = read_bytes(dir / "test_batch.bin");
  bytes[1 * 3073] = 12;  // record 1's label byte
  write_bytes(dir / "test_batch.bin", bytes);
  expect_error([&] { read_cifar10(dir.str(), Split::test); },
               {dir / "test_batch.bin", "record 1", "byte offset 3073", "label 12", "expected 0..9"});
}

TEST(Cifar100, ReadsFineAndCoarseLabels) {
  TempDir dir;
  write_bytes(dir / "train.bin", cifar_records(0, 7, {20, 100}));
  write_bytes(dir / "test.bin", cifar_records(50, 3, {20, 100}));
  const Dataset fine = read_cifar100(dir.str(), Split::train, Cifar100Label::fine);
  expect_fixture_records(fine, 0, 7, 100);
  EXPECT_EQ(fine.num_classes, 100);
  EXPECT_EQ(fine.class_names.size(), 100u);
  EXPECT_EQ(fine.class_names[0], "apple");
  EXPECT_EQ(fine.class_names[99], "worm");
  const Dataset coarse = read_cifar100(dir.str(), Split::test, Cifar100Label::coarse);
  expect_fixture_records(coarse, 50, 3, 20);
  EXPECT_EQ(coarse.num_classes, 20);
  EXPECT_EQ(coarse.class_names.size(), 20u);
  EXPECT_NO_THROW(coarse.validate());
}

TEST(Cifar100, BadLabelsAndTruncationAreNamed) {
  TempDir dir;
  write_bytes(dir / "train.bin", cifar_records(0, 4, {20, 100}));
  std::vector<uint8_t> bytes = read_bytes(dir / "train.bin");
  bytes[2 * 3074 + 1] = 100;  // record 2's fine label
  write_bytes(dir / "train.bin", bytes);
  // Refused whichever label is kept: the file is corrupt either way.
  for (Cifar100Label label : {Cifar100Label::fine, Cifar100Label::coarse}) {
    expect_error([&] { read_cifar100(dir.str(), Split::train, label); },
                 {dir / "train.bin", "record 2", "label 100", "expected 0..99"});
  }
  bytes[2 * 3074 + 1] = 5;
  bytes[3 * 3074] = 20;  // record 3's coarse label
  write_bytes(dir / "train.bin", bytes);
  expect_error([&] { read_cifar100(dir.str(), Split::train); }, {dir / "train.bin", "record 3", "expected 0..19"});

  // A CIFAR-10 file is not a whole number of CIFAR-100 records.
  write_bytes(dir / "test.bin", cifar_records(0, 5, {10}));
  expect_error([&] { read_cifar100(dir.str(), Split::test); }, {dir / "test.bin", "3074-byte records"});
}

}  // namespace
}  // namespace strata::data
