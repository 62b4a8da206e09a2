// Why: the OpenSSH sshd fixture lives in bench/servers/sshd.ts, shared with the remote benchmark (bench/
// imports nothing from test/, tests may import bench/); the tests keep importing it from here.
export * from '../../bench/servers/sshd.js'
