# CPU op tests (lib/ops_*.c): each op against a naive double-precision reference written in the test.
vdit_add_test(NAME test_ops_linear LABEL cpu SOURCES test_ops_linear.c)
vdit_add_test(NAME test_ops_norm LABEL cpu SOURCES test_ops_norm.c)
vdit_add_test(NAME test_ops_elementwise LABEL cpu SOURCES test_ops_elementwise.c)
vdit_add_test(NAME test_ops_rope LABEL cpu SOURCES test_ops_rope.c)
vdit_add_test(NAME test_ops_patch LABEL cpu SOURCES test_ops_patch.c)
vdit_add_test(NAME test_ops_conv3d LABEL cpu SOURCES test_ops_conv3d.c)
