#ifndef SIMFORGE_FILES_H
#define SIMFORGE_FILES_H

/// Starts writing `length` bytes of `fd` from `offset` to the disk without waiting for it
/// (sync_file_range with SYNC_FILE_RANGE_WRITE), so that a later fsync has little left.
/// Gives no durability by itself. Returns 0, or -1 with errno set.
int simforge_start_writeback(int fd, long long offset, long long length);

#endif
