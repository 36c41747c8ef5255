/*
 * What schema_compile.c builds and schema_validate.c walks: the compiled
 * form of a draft-07 schema. Private to the schema_*.c files.
 */
#ifndef SS_SCHEMA_INT_H
#define SS_SCHEMA_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <json-c/json.h>
#include <json-c/linkhash.h>
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "schema_regex.h" /* the patterns, shared with secrets.c */

/* Bits of snode.types, one per JSON Schema type name. */
enum {
	ST_NULL = 1 << 0,
	ST_BOOLEAN = 1 << 1,
	ST_OBJECT = 1 << 2,
	ST_ARRAY = 1 << 3,
	ST_NUMBER = 1 << 4,
	ST_STRING = 1 << 5,
	ST_INTEGER = 1 << 6,
};

struct snode;

struct sprop {
	const char *name; /* lives in the schema document */
	size_t len;
	struct snode *schema;
};

struct spattern {
	const char *src;
	pcre2_code *re;
	struct snode *schema; /* patternProperties only */
};

struct sdep {
	const char *name;
	struct snode *schema;  /* schema form, or NULL */
	json_object *required; /* array form (array of strings), or NULL */
};

/* A bound of minimum/maximum/exclusive*: present or not, and its value. */
struct sbound {
	bool set;
	long double v;
};

struct snode {
	/* A boolean schema: true accepts everything, false nothing. */
	bool is_bool;
	bool bool_value;
	/* "$ref": when set every sibling keyword is ignored (draft-07). */
	struct snode *ref;
	const char *ref_src;
	const char *where; /* JSON Pointer of this schema in the document */

	unsigned types; /* 0: no "type" */
	json_object *enum_values;
	json_object *const_value;
	bool has_const;

	struct sbound minimum, maximum, xminimum, xmaximum;
	json_object *multiple_of;

	int64_t min_length, max_length; /* -1: absent */
	struct spattern pattern;	/* re NULL: absent */
	const char *format;		/* NULL: absent or not checked */

	struct snode *items; /* schema form */
	struct snode **tuple;
	size_t ntuple;
	bool items_tuple;
	struct snode *additional_items;
	int64_t min_items, max_items;
	bool unique_items;
	struct snode *contains;

	struct sprop *props;
	size_t nprops;
	struct spattern *patprops;
	size_t npatprops;
	struct snode *additional_props;
	json_object *required;
	int64_t min_props, max_props;
	struct snode *property_names;
	struct sdep *deps;
	size_t ndeps;

	struct snode **all_of, **any_of, **one_of;
	size_t nall_of, nany_of, none_of;
	struct snode *not_;
	struct snode *if_, *then_, *else_;

	SLIST_ENTRY(snode) alloc; /* every node of a schema, for schema_free */
};

struct schema {
	json_object *doc;
	struct snode *root;
	SLIST_HEAD(, snode) nodes; /* every node, through alloc */
	size_t nnodes;
	pcre2_match_context *mctx;
};

/*
 * A JSON number as a long double (exact for every 64-bit integer json-c
 * holds, signed or unsigned); false when j is not a number.
 */
bool schema_number(json_object *j, long double *out);
/* JSON equality: 1 and 1.0 equal, member order irrelevant. */
bool schema_json_equal(json_object *a, json_object *b);
/* schema_uri_resolve and schema_pointer: schema_ref.h. */

/* The "$id"s of one document: absolute URI -> the schema it names (a hash). */
struct schema_ids {
	struct lh_table *by_uri;
};
/*
 * Takes uri; returns the stored copy, or NULL when it already names a
 * different schema.
 */
const char *schema_ids_add(struct schema_ids *t, char *uri, json_object *j);
json_object *schema_ids_find(const struct schema_ids *t, const char *uri);
void schema_ids_free(struct schema_ids *t);

#endif
