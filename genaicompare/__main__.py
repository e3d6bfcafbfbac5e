from genaicompare.cli import main

raise SystemExit(main())
