/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The keytab of the identity statement holds the site's key: whoever
 * reads it can be the site.  funneld refuses one that others could read
 * or change, as ssh refuses an unprotected private key.
 */
#ifndef FUNNEL_KEYTAB_H
#define FUNNEL_KEYTAB_H

#include <stddef.h>

/*
 * 0 if the keytab at path (absolute) is safe to use: a regular file
 * (symbolic links followed), owned by root or by funneld's effective
 * user, without any permission for group or others, and readable by
 * funneld.  A keytab that does not exist is accepted: it may be made
 * later, and using it fails with its own message until then.  Else -1
 * with a message in err naming the file, its mode and owner and how to
 * fix it.
 */
int keytab_check(const char *path, char *err, size_t errlen);

#endif /* FUNNEL_KEYTAB_H */
