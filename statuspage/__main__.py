from statuspage.cli import main

raise SystemExit(main())
