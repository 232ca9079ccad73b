// Placeholder translation unit so a folder library links before its first source exists.
typedef int vdit_empty_unit;
