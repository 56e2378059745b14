#ifndef _LINUX_PFN_H
#define _LINUX_PFN_H
#endif
