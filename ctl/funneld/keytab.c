// SPDX-License-Identifier: GPL-2.0
/* The keytab's directory, owner and mode (see keytab.h). */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "funneld/keytab.h"

/* funneld's effective user's name, or its uid. */
static void user_name(uid_t me, char *user, size_t size)
{
	const struct passwd *pw = getpwuid(me);

	if (pw && strlen(pw->pw_name) < size)
		snprintf(user, size, "%s", pw->pw_name);
	else
		snprintf(user, size, "%u", (unsigned int)me);
}

/* The checks of the keytab's directory (open as dfd, named dir). */
static int dir_ok(int dfd, const char *dir, const char *path, char *err,
		  size_t errlen)
{
	uid_t me = geteuid();
	struct stat st;
	char user[64];

	if (fstat(dfd, &st)) {
		snprintf(err, errlen, "keytab %s: directory %s: %s", path, dir,
			 strerror(errno));
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != me) {
		user_name(me, user, sizeof(user));
		snprintf(err, errlen,
			 "UNPROTECTED KEYTAB DIRECTORY: %s, the directory of keytab %s, is owned by uid %u, not by root or funneld's user %s (uid %u): whoever owns it can put another file under the keytab's name; move the keytab, or chown %s %s",
			 dir, path, (unsigned int)st.st_uid, user,
			 (unsigned int)me, user, dir);
		errno = EPERM;
		return -1;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
		snprintf(err, errlen,
			 "UNPROTECTED KEYTAB DIRECTORY: %s, the directory of keytab %s, has mode %04o: whoever can write it can put another file under the keytab's name; chmod go-w %s (or move the keytab)",
			 dir, path, (unsigned int)(st.st_mode & 07777), dir);
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* The checks of the keytab itself (st: of the open file, or of the name). */
static int file_ok(const struct stat *st, const char *path, const char *what,
		   char *err, size_t errlen)
{
	uid_t me = geteuid();
	char user[64];

	if (S_ISLNK(st->st_mode)) {
		snprintf(err, errlen,
			 "%s %s is a symbolic link: funneld does not follow one (whoever can change the link chooses the file); name the keytab itself",
			 what, path);
		errno = ELOOP;
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "%s %s: not a regular file", what, path);
		errno = EINVAL;
		return -1;
	}
	if (st->st_uid != 0 && st->st_uid != me) {
		user_name(me, user, sizeof(user));
		snprintf(err, errlen,
			 "UNPROTECTED KEYTAB: %s is owned by uid %u, not by root or funneld's user %s (uid %u): whoever owns it can change the site's key; chown %s %s",
			 path, (unsigned int)st->st_uid, user, (unsigned int)me,
			 user, path);
		errno = EPERM;
		return -1;
	}
	if (st->st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen,
			 "UNPROTECTED KEYTAB: %s has mode %04o: it must not be accessible by group or others (whoever reads it can be this site); chmod 0600 %s",
			 path, (unsigned int)(st->st_mode & 07777), path);
		errno = EPERM;
		return -1;
	}
	return 0;
}

int keytab_open(const char *path, const char *what, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	struct stat st;
	int dfd, fd, e;

	if (!slash || !slash[1] || (size_t)(slash - path) >= sizeof(dir)) {
		snprintf(err, errlen, "%s %s: not an absolute path of a file",
			 what, path);
		errno = EINVAL;
		return -1;
	}
	if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		e = errno;
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(e));
		errno = e;
		return -1;
	}
	if (dir_ok(dfd, dir, path, err, errlen))
		goto fail_dir;
	/* the name first: a link, a FIFO or a device is not opened at all */
	if (fstatat(dfd, slash + 1, &st, AT_SYMLINK_NOFOLLOW)) {
		e = errno;
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(e));
		errno = e;
		goto fail_dir;
	}
	if (file_ok(&st, path, what, err, errlen))
		goto fail_dir;
	fd = openat(dfd, slash + 1,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == EACCES)
			snprintf(err, errlen,
				 "%s %s (owner uid %u, mode %04o): funneld (uid %u) cannot read it: %s",
				 what, path, (unsigned int)st.st_uid,
				 (unsigned int)(st.st_mode & 07777),
				 (unsigned int)geteuid(), strerror(e));
		else if (e == ELOOP)	/* made a link since */
			file_ok(&(struct stat){ .st_mode = S_IFLNK }, path,
				what, err, errlen);
		else
			snprintf(err, errlen, "%s %s: %s", what, path,
				 strerror(e));
		errno = e;
		goto fail_dir;
	}
	/* what was opened, which may not be what was looked at */
	if (fstat(fd, &st)) {
		e = errno;
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(e));
		errno = e;
		goto fail;
	}
	if (file_ok(&st, path, what, err, errlen))
		goto fail;
	close(dfd);
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
fail_dir:
	e = errno;
	close(dfd);
	errno = e;
	return -1;
}

int keytab_check(const char *path, char *err, size_t errlen)
{
	int fd = keytab_open(path, "keytab", err, errlen);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno == ENOENT ? 0 : -1;
}
