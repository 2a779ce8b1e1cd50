# Writes OUT, a C++ file defining petabox::daemon::kDefaultConfigYaml with the text of IN.
file(READ ${IN} text)
file(WRITE ${OUT} "// Generated from configs/petaboxd.yaml by daemon/embed_config.cmake.\n"
  "namespace petabox::daemon {\nextern const char kDefaultConfigYaml[];\n"
  "const char kDefaultConfigYaml[] = R\"petabox_yaml(${text})petabox_yaml\";\n}\n")
