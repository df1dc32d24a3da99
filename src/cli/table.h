// A plain text table for the CLI: columns padded to their widest cell.
#pragma once

#include <string>
#include <vector>

namespace tide::cli {

class Table {
public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  // Prints to stdout; "(none)" under the header when there are no rows.
  void print() const;

private:
  std::vector<std::vector<std::string>> rows_;
};

} // namespace tide::cli
