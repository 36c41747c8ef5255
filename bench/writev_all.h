/*
 * The benches' HTTP clients (http_events.c, durable_client.c) write a
 * request head and body with one writev, resumed after a short write.
 */
#ifndef SS_BENCH_WRITEV_ALL_H
#define SS_BENCH_WRITEV_ALL_H

#include <errno.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Writes every byte of iov[0..n) (it is consumed); 0, or -1 with errno. */
static inline int writev_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

#endif
