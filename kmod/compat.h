/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The differences between the kernels Funnel supports (6.1 and 6.12),
 * in one place.
 */
#ifndef _FUNNEL_COMPAT_H
#define _FUNNEL_COMPAT_H

#include <linux/version.h>
#include <linux/net.h>
#include <linux/crypto.h>
#include <net/genetlink.h>
#include <net/sock.h>

/* 6.5 removed ->sendpage; sendfile()/splice() come through ->sendmsg with
 * MSG_SPLICE_PAGES since.  Before, route them through our ->sendmsg with
 * the generic copying helper.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
#define FUNNEL_HAVE_SENDPAGE 1
static inline void funnel_compat_ops(struct proto_ops *ops)
{
	ops->sendpage = sock_no_sendpage;
	ops->sendpage_locked = NULL;
}
#else
static inline void funnel_compat_ops(struct proto_ops *ops)
{
}
#endif

#ifndef MSG_SPLICE_PAGES
#define MSG_SPLICE_PAGES 0
#endif

/* 6.2 added sk_use_task_frag. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
static inline void funnel_no_task_frag(struct sock *sk)
{
	sk->sk_use_task_frag = false;
}
#else
static inline void funnel_no_task_frag(struct sock *sk)
{
}
#endif

/* 6.2 moved the parsed attributes of a dump request into an info. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define funnel_dump_attrs(cb)	(genl_dumpit_info(cb)->info.attrs)
#else
#define funnel_dump_attrs(cb)	(genl_dumpit_info(cb)->attrs)
#endif

/* 6.3 passes a completion callback its data, not the request. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
#define FUNNEL_CRYPTO_DONE_ARG	struct crypto_async_request *
static inline void *funnel_crypto_done_data(struct crypto_async_request *req)
{
	return req->data;
}
#else
#define FUNNEL_CRYPTO_DONE_ARG	void *
static inline void *funnel_crypto_done_data(void *data)
{
	return data;
}
#endif

#endif /* _FUNNEL_COMPAT_H */
