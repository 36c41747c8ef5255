/*
 * Catalog repositories over HTTP: GET/POST repositories, DELETE
 * repositories/{id}, POST sync (every enabled repository, or ?id=N).
 */
#ifndef SS_API_REPOS_H
#define SS_API_REPOS_H

struct api;
struct repos;

void api_repos_register(struct api *api, struct repos *r);

#endif
