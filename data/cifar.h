#pragma once
// CIFAR-10 and CIFAR-100, binary version (the "-binary.tar.gz" downloads).
//
// CIFAR-10: root/data_batch_1.bin .. data_batch_5.bin (train), root/test_batch.bin
// (test). Each record is 3073 bytes: a label byte (0-9), then the 32x32 red,
// green and blue planes (1024 bytes each, row-major).
// CIFAR-100: root/train.bin, root/test.bin. Records of 3074 bytes: coarse
// label (0-19), fine label (0-99), then the same 3072 pixel bytes.
//
// The real files hold 10000 (CIFAR-10, 30,730,000 bytes) and 50000 / 10000
// (CIFAR-100) records. The readers accept any positive whole number of
// records, so tests can write small fixtures in the same format, and refuse a
// size that is not a multiple of the record size (a truncated or foreign
// file) or a label out of range, naming the file, record and byte offset.
//
// Result: Dataset with images u8 (N, 3, 32, 32) and labels i64 (N).
#include <string>

#include "data/dataset.h"

namespace strata::data {

enum class Cifar100Label { fine, coarse };  // 100 or 20 classes

Dataset read_cifar10(const std::string& root, Split split);
Dataset read_cifar100(const std::string& root, Split split, Cifar100Label label = Cifar100Label::fine);

// The file names each split reads, in order (for messages and tests).
std::vector<std::string> cifar10_files(Split split);
std::vector<std::string> cifar100_files(Split split);

}  // namespace strata::data
