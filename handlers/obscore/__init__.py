"""The observation's IVOA ObsCore 1.1 record, from the file's HDU documents (pure: no I/O)."""
