from pharmacist_tool.cli import main

raise SystemExit(main())
