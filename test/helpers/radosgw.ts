// Why: the Ceph radosgw fixture lives in bench/servers/radosgw.ts, shared with the remote benchmark (bench/
// imports nothing from test/, tests may import bench/); the tests keep importing it from here.
export * from '../../bench/servers/radosgw.js'
