// Describes DuckDB's ICU extension, compiled into modelc, to DuckDB's static
// extension registry (`duckdb_register_static_extension`), as DuckDB's own
// generated loader describes the extensions its builds link in.
#include "duckdb.hpp"
#include "duckdb/main/extension/extension_loader.hpp"
#include "duckdb_static_extension.h"

extern "C" void icu_duckdb_cpp_init(duckdb::ExtensionLoader &loader);

extern "C" int32_t modelc_duckdb_icu_describe(duckdb_extension_descriptor *descriptor) {
	if (descriptor->version < 1) {
		descriptor->set_error(descriptor, "extension icu needs descriptor layout 1");
		return 1;
	}
	descriptor->version = 1;
	descriptor->name = "icu";
	descriptor->extension_version = "";
	descriptor->api_version = duckdb::DuckDB::LibraryVersion();
	descriptor->entry_cpp = (void (*)(void))icu_duckdb_cpp_init;
	return 0;
}
