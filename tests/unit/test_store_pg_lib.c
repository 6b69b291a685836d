/*
 * Unit tests of store_pg_lib.c: libpq loaded at run time, every function
 * found, and a library that is missing or is not libpq refused by name.
 */
#include <check.h>
#include <string.h>

#include "store_pg_lib.h"

START_TEST(test_every_function_is_found_and_callable)
{
	struct pq_lib lib;
	char err[512] = "";

	memset(&lib, 0, sizeof(lib));
	ck_assert_msg(store_pg_lib_open(STORE_PG_LIB_SONAME, &lib, err, sizeof(err)) == 0, "%s", err);
#define FOUND(name) ck_assert_msg(lib.name != NULL, "%s not found", #name);
	STORE_PG_LIB_FUNCTIONS(FOUND)
#undef FOUND
	/* libpq's own answers, through the table: a NULL result is a fatal one,
	 * a NULL connection is bad. */
	ck_assert_int_eq(lib.PQresultStatus(NULL), PGRES_FATAL_ERROR);
	ck_assert_int_eq(lib.PQstatus(NULL), CONNECTION_BAD);
	ck_assert_int_eq(lib.PQntuples(NULL), 0);
}
END_TEST

START_TEST(test_missing_library_is_named)
{
	struct pq_lib lib;
	char err[512] = "";

	memset(&lib, 0, sizeof(lib));
	ck_assert_int_eq(store_pg_lib_open("libshortd-no-such-library.so.9", &lib, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "cannot load libshortd-no-such-library.so.9") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "libpq5") != NULL, "no package named: %s", err);
	ck_assert_ptr_null(lib.PQclear);
}
END_TEST

/* libz is loaded by every shortd (libpng needs it), and is not libpq. */
START_TEST(test_library_without_libpq_functions_is_refused)
{
	struct pq_lib lib;
	char err[512] = "";

	memset(&lib, 0, sizeof(lib));
	ck_assert_int_eq(store_pg_lib_open("libz.so.1", &lib, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "libz.so.1 has no function PQclear: not libpq, or a libpq older than shortd needs "
	                      "(Debian's libpq5)");
	ck_assert_ptr_null(lib.PQclear);
}
END_TEST

START_TEST(test_process_library_is_loaded_once)
{
	char err[512] = "";
	const struct pq_lib *a = store_pg_lib(err, sizeof(err));
	const struct pq_lib *b = store_pg_lib(err, sizeof(err));

	ck_assert_msg(a != NULL, "%s", err);
	ck_assert_ptr_eq(a, b);
	ck_assert_ptr_nonnull(a->PQconnectdbParams);
}
END_TEST

Suite *store_pg_lib_suite(void)
{
	Suite *s = suite_create("store_pg_lib");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_every_function_is_found_and_callable);
	tcase_add_test(tc, test_missing_library_is_named);
	tcase_add_test(tc, test_library_without_libpq_functions_is_refused);
	tcase_add_test(tc, test_process_library_is_loaded_once);
	suite_add_tcase(s, tc);
	return s;
}
