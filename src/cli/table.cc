#include "cli/table.h"

#include <cstdio>

namespace tide::cli {

void Table::print() const {
  std::vector<size_t> width;
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size(); ++c) {
      if (width.size() <= c) {
        width.push_back(0);
      }
      width[c] = std::max(width[c], row[c].size());
    }
  }
  for (const auto& row : rows_) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) {
        line += std::string(width[c] - row[c].size() + 2, ' ');
      }
    }
    std::printf("%s\n", line.c_str());
  }
  if (rows_.size() == 1) {
    std::printf("(none)\n");
  }
}

} // namespace tide::cli
