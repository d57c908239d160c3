#define _GNU_SOURCE
#include <fcntl.h>

#include "simforge_files.h"

int simforge_start_writeback(int fd, long long offset, long long length) {
    return sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE);
}
