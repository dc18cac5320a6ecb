# The sample workflows, shipped in the wheel as the package's example subpackage: that subpackage is a
# symlink to this folder (one set of files), and this file makes the folder a package for setuptools.
# (Worded so that the scheduler's parse heuristic skips it: it defines no workflow.)
