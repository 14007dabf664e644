// engine/suppression/lmdb_support.h — LMDB values as string views, for
// the suppression store's two files (suppression_store.cc, the writer;
// suppression_reader.cc, the readers).
#pragma once

#include <lmdb.h>

#include <string_view>

namespace ringmta {

inline MDB_val lmdb_val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
inline std::string_view lmdb_view(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

}  // namespace ringmta
