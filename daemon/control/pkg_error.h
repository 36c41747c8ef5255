/*
 * The error the marketplace's package functions (catalog_entry, minisign,
 * package, archive) report: which check failed, on what, and a sentence for
 * the user. It is filled in place and never logged: those functions run on a
 * worker thread, keep no global state and have no side effects but the files
 * they are asked to write, so the caller decides what to report and where.
 */
#ifndef SS_PKG_ERROR_H
#define SS_PKG_ERROR_H

struct pkg_error {
	/*
	 * A stable identifier of the check that failed, for programs and tests
	 * ("sha256", "signature", "symlink", "archive-bomb", ...; the list is
	 * in package.h). Empty when nothing failed.
	 */
	char check[32];
	/* What it concerns: an archive entry, a catalog entry, a file; may be empty. */
	char subject[256];
	/* One sentence naming the subject and what is wrong with it. */
	char message[784];
};

/* Empties err (NULL is fine). */
void pkg_error_clear(struct pkg_error *err);

/*
 * Fills err (NULL is fine) with check, subject (NULL for none) and the
 * formatted text. Bytes of subject that are not printable ASCII are written
 * as \xNN, so a hostile archive name cannot put control characters into a
 * log line; the message reads "<subject>: <text>".
 */
void pkg_error_set(struct pkg_error *err, const char *check, const char *subject, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));

#endif
