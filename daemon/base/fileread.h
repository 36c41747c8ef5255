/*
 * Reading a file a plugin's author or a package controls: a manifest, a
 * README. Such a name may be a FIFO (open would wait for a writer, read for
 * data), a symlink, a device or a huge file, so it is opened without
 * following a link and without waiting (O_NONBLOCK makes open of a FIFO
 * return at once), the descriptor (not the name) is checked to be a regular
 * file of at most max bytes, and no more than that is read.
 */
#ifndef SS_FILEREAD_H
#define SS_FILEREAD_H

#include <stddef.h>

/*
 * The file's bytes (NUL-terminated, caller frees) and their count in *len;
 * NULL with a sentence in err (naming path) when it is not such a file or
 * cannot be read. *missing says whether it does not exist at all.
 */
char *file_read_regular(const char *path, size_t max, size_t *len, int *missing, char *err,
			size_t errlen);

/*
 * Reads fd to its end or size bytes, whichever comes first (size is what
 * fstat said: a file that grows is read no further): the bytes,
 * NUL-terminated (caller frees), their count in *len (less than size when
 * the file shrank); NULL on a read error, errno set.
 */
char *file_read_fd(int fd, size_t size, size_t *len);

#endif
