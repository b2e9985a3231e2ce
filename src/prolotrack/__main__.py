from prolotrack.cli import main

main()
